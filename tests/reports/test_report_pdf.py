"""The PDF parses with pypdf and its text carries the student's id and values, in English and Korean."""

from __future__ import annotations

import dataclasses
import io
import pickle
from pathlib import Path

import pypdf
import pytest

from dreamseed.reports import (
    Kpis,
    MissingHangulFontError,
    ReportRenderer,
    render_pdf,
    sample_report_data,
)


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        ("en", ("Weekly learning report", "Improvement", "Churn risk")),
        ("ko", ("주간 학습 리포트", "향상도", "이탈 위험도")),
    ],
)
def test_pdf_contains_student_and_kpi_values(
    renderer: ReportRenderer, lang: str, labels: tuple[str, ...]
) -> None:
    data = sample_report_data("student-pdf-7", seed=21, lang=lang)  # type: ignore[arg-type]
    data = dataclasses.replace(data, kpis=Kpis(I_t=0.123, E_t=0.456, R_t=None, A_t=0.789, P=0.321, S=0.654))
    pdf = renderer.render_pdf(data)
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None
    assert "student-pdf-7" in str(reader.metadata.title)
    text = pdf_text(pdf)
    assert "student-pdf-7" in text
    for value in ("+0.123", "0.456", "0.789", "0.321", "0.654", "N/A"):
        assert value in text
    for label in labels:
        assert label in text


def test_same_data_gives_identical_pdf_bytes(renderer: ReportRenderer) -> None:
    data = sample_report_data(seed=22)
    assert renderer.render_pdf(data) == renderer.render_pdf(data)


def test_render_returns_both_formats_from_one_view(renderer: ReportRenderer) -> None:
    report = renderer.render(sample_report_data("both-1", seed=23, lang="en"))
    assert report.html is not None
    assert "both-1" in report.html
    assert report.pdf is not None
    assert "both-1" in pdf_text(report.pdf)
    only_html = renderer.render(sample_report_data(seed=23), pdf=False)
    assert only_html.pdf is None
    assert only_html.html is not None


def test_module_level_render_pdf() -> None:
    assert "student-0001" in pdf_text(render_pdf(sample_report_data(lang="en")))


def test_renderer_survives_pickling_for_worker_processes(renderer: ReportRenderer) -> None:
    copy = pickle.loads(pickle.dumps(renderer))
    assert copy.render_pdf(sample_report_data(seed=24)).startswith(b"%PDF-")


def test_korean_without_a_hangul_font_names_the_package(tmp_path: Path) -> None:
    bare = ReportRenderer(font_dirs=[tmp_path], include_system_fonts=False)
    assert bare.warm_up().hangul is None
    with pytest.raises(MissingHangulFontError, match="fonts-nanum"):
        bare.render_pdf(sample_report_data(lang="ko"))
    assert bare.render_pdf(sample_report_data(lang="en")).startswith(b"%PDF-")


def test_extra_font_directory_supplies_the_hangul_font(tmp_path: Path, renderer: ReportRenderer) -> None:
    hangul = renderer.warm_up().hangul
    source = next(Path("/usr/share/fonts").rglob("NanumGothic.ttf"), None)
    if hangul != "NanumGothic" or source is None:
        pytest.skip("needs NanumGothic.ttf from fonts-nanum")
    (tmp_path / "NanumGothic.ttf").write_bytes(source.read_bytes())
    own = ReportRenderer(font_dirs=[tmp_path], include_system_fonts=False)
    assert own.warm_up().hangul == "NanumGothic"
    assert "향상도" in pdf_text(own.render_pdf(sample_report_data(lang="ko")))


def embedded_fonts(pdf: bytes) -> set[str]:
    fonts = set()
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        resources = [page["/Resources"]]
        resources += [
            x.get_object().get("/Resources", {}) for x in page["/Resources"].get("/XObject", {}).values()
        ]
        for resource in resources:
            fonts |= {str(f.get_object()["/BaseFont"]) for f in resource.get("/Font", {}).values()}
    return fonts


def test_korean_pdf_needs_only_the_hangul_font(renderer: ReportRenderer) -> None:
    """Every glyph of a Korean report is in NanumGothic, so no fallback font is embedded (faster)."""
    if renderer.warm_up().hangul != "NanumGothic":
        pytest.skip("checks NanumGothic coverage")
    fonts = embedded_fonts(renderer.render_pdf(sample_report_data(seed=25, lang="ko")))
    assert {name.split("+")[-1] for name in fonts} <= {"NanumGothic", "NanumGothicBold"}
