"""The rendered report's page as hil leaves it: no analytics, its embedded data waited for."""

from __future__ import annotations

from hil.allure_report import EARLY_DATA, offline_page

# the end of Allure's single-file page, as its awesome plugin writes it (3.18)
PAGE = """<html><head>
    <script>
      window.allureReportOptions = {"id":"awesome"}
    </script>
</head>
<body>
    <script   src="data:text/javascript;base64,QVBQ"></script>
    <script async src="https://www.googletagmanager.com/gtag/js?id=G-LNDJ3J7WT0"></script>
    <script>
        window.dataLayer = window.dataLayer || [];
        function gtag(){dataLayer.push(arguments);}
        gtag('js', new Date());
        gtag('config', 'G-LNDJ3J7WT0', {
          "report": "awesome",
          "single_file": "true"
        });
    </script>

    <script async>
      window.allureReportDataReady = false;
      window.allureReportData = window.allureReportData || {};
    </script>
</body></html>
"""


def test_the_page_reports_to_no_one_and_declares_its_data_before_the_application() -> None:
    page = offline_page(PAGE)
    assert "googletagmanager" not in page and "gtag" not in page and "dataLayer" not in page
    assert page.index(EARLY_DATA) < page.index("</head>") < page.index('src="data:text/javascript')
    assert offline_page(page) == page  # once is enough
    # what the page is for stays
    assert 'src="data:text/javascript;base64,QVBQ"' in page and "allureReportDataReady = false" in page


def test_a_page_without_embedded_data_loads_its_files_as_before() -> None:
    files = PAGE.replace("window.allureReportDataReady = false;", "window.allureReportDataReady = true;")
    assert EARLY_DATA not in offline_page(files)
