"""Small article files made by the tests: a saved web page and a PDF, written from scratch."""

from __future__ import annotations

import html
import textwrap


def make_html(title: str, date: str, paragraphs: list[str]) -> bytes:
    """A saved news page: site navigation, the article (title, date, paragraphs), a footer."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    page = f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{html.escape(title)} | OIM</title>
<meta property="article:published_time" content="{date}"></head>
<body>
<nav><ul><li><a href="/">Accueil</a></li><li><a href="/qui">Qui sommes nous</a></li>
<li><a href="/contact">Contact</a></li></ul></nav>
<main><article>
<h1>{html.escape(title)}</h1>
<p class="date"><time datetime="{date}">{date}</time></p>
{body}
</article></main>
<footer><p>© OIM — Mentions légales — Plan du site</p></footer>
</body></html>
"""
    return page.encode("utf-8")


def make_menu_page(menu_markup: str = "nav") -> bytes:
    """A saved page with the site's menu and footer and no article (a home page saved by mistake).
    ``menu_markup``: "nav" for <nav>, "class" for a <div class="main-menu">."""
    menu = '<li><a href="/">Accueil</a></li><li><a href="/news">Actualités</a></li><li><a href="/c">Contact</a></li>'
    opening, closing = (
        ("<nav><ul>", "</ul></nav>") if menu_markup == "nav" else ('<div class="main-menu"><ul>', "</ul></div>")
    )
    page = f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Accueil</title></head>
<body>
{opening}{menu}{closing}
<footer><p>© OIM — Mentions légales</p></footer>
</body></html>
"""
    return page.encode("utf-8")


def _pdf_string(text: str) -> str:
    """A PDF string literal in WinAnsi (cp1252) bytes, non-ASCII as octal escapes."""
    out = []
    for byte in text.encode("cp1252"):
        char = chr(byte)
        if char in "()\\":
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "(" + "".join(out) + ")"


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF of A4 pages, each a list of paragraphs set in lines of Helvetica, readable by any PDF text extractor."""
    objects: list[str] = []
    page_ids = [3 + 2 * i for i in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    objects.append("<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>")
    for page_id, paragraphs in zip(page_ids, pages, strict=True):
        lines = [line for paragraph in paragraphs for line in textwrap.wrap(paragraph, 90)]
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {page_id + 1} 0 R >>"
        )
        text = " T* ".join(f"{_pdf_string(line)} Tj" for line in lines)
        stream = f"BT /F1 11 Tf 14 TL 50 790 Td {text} ET"
        objects.append(f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    data = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(data))
        data += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(data)
    data += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("latin-1")
    data += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode("latin-1")
    data += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode("latin-1")
    return data


# A made-up press release in two pages (paragraphs, wrapped into lines): only the second page says how many
# hygiene kits were handed out, after two long sentences, so that every passage holding it starts on that page.
PDF_PAGES = [
    [
        "L'OIM renforce son appui aux familles déplacées en Mauritanie",
        "Nouakchott – L'OIM a lancé lundi un programme d'appui aux familles déplacées par les inondations "
        "dans le sud de la Mauritanie.",
        "Le programme est financé par l'Union européenne pour une durée de deux ans.",
    ],
    [
        "Les équipes de l'OIM se sont rendues dans les villages de la vallée du fleuve Sénégal, où les eaux ont "
        "détruit les maisons, les greniers et les puits de centaines de familles, et où les routes coupées "
        "rendent l'acheminement de l'aide lent et coûteux pendant toute la saison des pluies.",
        "Avec les autorités régionales et les organisations locales, elles ont recensé les besoins les plus "
        "urgents des familles : l'eau potable, les abris, les soins de santé et la protection des enfants, "
        "des femmes seules et des personnes âgées qui ont tout perdu dans les crues.",
        "Le bureau de l'OIM à Nouakchott a distribué 3 500 kits d'hygiène aux familles sinistrées de la "
        "région du Gorgol.",
        "Pour plus d'informations, veuillez contacter Aminata Sow, Tel: +222 4525 1234.",
    ],
]
PDF_QUESTION = "Combien de kits d'hygiène le bureau de l'OIM à Nouakchott a-t-il distribués ?"
PDF_ANSWER = "3 500 kits"

HTML_TITLE = "L'OIM ouvre un centre d'accueil pour les migrants à Agadez"
HTML_PARAGRAPHS = [
    "Agadez – L'OIM a ouvert mercredi un centre d'accueil pour les migrants de passage à Agadez, au Niger.",
    "Le centre peut héberger 400 personnes et offre des soins de santé et un soutien psychosocial.",
    "« Ce centre répond à un besoin urgent », a déclaré Hamidou Issaka, chef du bureau de l'OIM à Agadez.",
]
HTML_QUESTION = "Combien de personnes le centre d'accueil de l'OIM à Agadez peut-il héberger ?"


def _typed_pages(pages: list[list[str]]):
    """A5 pages of these lines (the first line of the first page, the title, in a larger bold font),
    rendered by pdfium."""
    import io

    import pypdfium2 as pdfium
    from reportlab.lib.pagesizes import A5
    from reportlab.pdfgen import canvas

    typed = io.BytesIO()
    sheet = canvas.Canvas(typed, pagesize=A5)
    for number, lines in enumerate(pages):
        for i, line in enumerate(lines):
            title = number == 0 and i == 0
            sheet.setFont("Helvetica-Bold" if title else "Helvetica", 16 if title else 12)
            sheet.drawString(40, 550 - 15 * i - (15 if number == 0 and i else 0), line)
        sheet.showPage()
    sheet.save()
    return pdfium.PdfDocument(typed.getvalue())


def make_scan(pages: list[list[str]], dpi: int = 200, text_pages: tuple[int, ...] = ()) -> bytes:
    """A PDF as a scanner makes it: each page an image of its lines (A5, Helvetica), no text; the pages
    whose index is in ``text_pages`` are left as text (a PDF with some scanned pages)."""
    import io

    from reportlab.lib.pagesizes import A5
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    rendered = _typed_pages(pages)
    out = io.BytesIO()
    scan = canvas.Canvas(out, pagesize=A5)
    for number, lines in enumerate(pages):
        if number in text_pages:
            for i, line in enumerate(lines):
                scan.setFont("Helvetica", 12)
                scan.drawString(40, 550 - 15 * i, line)
        else:
            image = rendered[number].render(scale=dpi / 72, grayscale=True).to_pil()
            scan.drawImage(ImageReader(image), 0, 0, width=A5[0], height=A5[1])
        scan.showPage()
    scan.save()
    return out.getvalue()


def make_text_image(lines: list[str], kind: str = "PNG", dpi: int = 200) -> bytes:
    """A photo of a short press release: its lines in black on white, as a PNG or JPEG file."""
    import io

    image = _typed_pages([lines])[0].render(scale=dpi / 72, grayscale=True).to_pil()
    out = io.BytesIO()
    image.save(out, format=kind)
    return out.getvalue()


# A made-up press release, as a scan: its dateline, accents, and a figure to ask about.
SCAN_LINES = [
    "L'OIM ouvre un bureau à Nouadhibou",
    "Nouakchott, 14 mars 2017 – L'OIM a ouvert aujourd'hui un bureau",
    "à Nouadhibou, la capitale économique de la Mauritanie.",
    "Le bureau accueillera 1 250 migrants chaque année, a précisé",
    "Anke Strauss, cheffe de mission de l'OIM en Mauritanie.",
]
SCAN_PAGE_2 = [
    "Les équipes de l'OIM ont distribué 640 kits d'hygiène",
    "aux familles déplacées de la région du Gorgol.",
]
