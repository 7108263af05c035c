from qa.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_splits_on_full_stops():
    assert sentences("Le projet a débuté en 2016. Il durera deux ans ! Vraiment ?") == [
        "Le projet a débuté en 2016.",
        "Il durera deux ans !",
        "Vraiment ?",
    ]


def test_french_titles_do_not_end_a_sentence():
    text = "Selon M. Dupont et Mme. Enkhtuya, le Dr. Martin viendra. La réunion suivra."
    assert sentences(text) == ["Selon M. Dupont et Mme. Enkhtuya, le Dr. Martin viendra.", "La réunion suivra."]


def test_initials_and_phone_extensions_stay_whole():
    text = "Contact: J. Smith, Tel: +86 10 8532 5303, Ext. 203. Email: kb@iom.int"
    assert sentences(text) == ["Contact: J. Smith, Tel: +86 10 8532 5303, Ext. 203.", "Email: kb@iom.int"]


def test_closing_quote_belongs_to_its_sentence():
    text = "« Nous partageons une vision de paix. » Le Mouvement compte 120 Etats membres."
    assert sentences(text) == ["« Nous partageons une vision de paix. »", "Le Mouvement compte 120 Etats membres."]


def test_quote_followed_by_attribution_is_one_sentence():
    text = "« Cet événement permettra de soutenir nos efforts », a déclaré Munkhchuluun Dandar. Fin."
    assert sentences(text)[0].endswith("Munkhchuluun Dandar.")


def test_lowercase_after_stop_is_not_a_new_sentence():
    assert len(sentences("Voir p. 12 et suivantes. etc. puis la suite.")) == 1


def test_blank_text_has_no_sentence():
    assert split_sentences("   ") == []


def test_a_long_sentence_full_of_abbreviations_is_split_in_linear_time(monkeypatch):
    """55,000 characters of "M. Dupont, " took 11 s (each stop re-read the sentence so far): each stop
    now looks at a bounded window before it, whatever the sentence's length."""
    from qa import sentences

    looked_at: list[int] = []
    original = sentences._is_abbreviation
    monkeypatch.setattr(sentences, "_is_abbreviation", lambda before: looked_at.append(len(before)) or original(before))
    text = "Il a vu " + "M. Dupont, " * 5000 + "et ce fut tout. Fin."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans][-1] == "Fin."
    assert len(spans) == 2
    assert len(looked_at) >= 5000 and max(looked_at) <= sentences._WORD_WINDOW
