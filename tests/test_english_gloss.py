"""The English gloss the reader is trained on: question words in English, content words and names kept."""

from bench.english_gloss import english_gloss


def test_question_words_are_glossed_and_content_words_kept():
    assert english_gloss("Qui dirige l'OIM en Mongolie ?") == "Who dirige the OIM in Mongolie?"
    assert (
        english_gloss("Combien d'étapes comporte le tour de l'île ?") == "How many étapes comporte the tour of the île?"
    )
    assert english_gloss("En quelle année le film est-il sorti ?") == "In what year the film is sorti?"


def test_a_name_inside_the_question_is_not_glossed():
    assert (
        english_gloss("A quel âge Pierre Du Bosc devient pasteur ?") == "At which âge Pierre Du Bosc devient pasteur?"
    )


def test_a_question_opening_with_a_frame_phrase():
    assert english_gloss("Qu'est-ce qu'un MVP ?") == "What is a MVP?"
    assert english_gloss("Par qui l’OIM a-t-elle été sollicitée ?").startswith("By whom the OIM has")
