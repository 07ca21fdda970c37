"""The explorer page in a real browser: headless Chromium opens the file from disk with every network
request blocked; no console error, one mark per concept, a click shows lines of both languages, a
filter changes the counts, the search finds ``kinh tế``, the page is not blank, diacritics render,
hostile metadata stays text. Skipped when Chromium, chromedriver or selenium is absent."""

from __future__ import annotations

import io
import json
import shutil
import time

import pytest

from analysis import files as aio
from tests.stages.test_explore import HOSTILE_OUTLET, HOSTILE_TITLE, explored  # noqa: F401 (the fixture)

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
DRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="no chromium/chromedriver (Debian: apt-get install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def browser():
    from analysis.plots.explorer import offline_chromium

    driver, profile = offline_chromium(width=1300, height=2300, logging={"browser": "ALL", "performance": "ALL"})
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, explored):  # noqa: F811 (the fixture imported above)
    """The page opened afresh; its Bokeh document is idle (every view drawn)."""
    path = aio.read_study(explored).output_dir / "explorer.html"
    browser.get_log("browser")  # drop earlier pages' entries
    browser.get_log("performance")
    browser.get(path.as_uri())
    wait(browser, "return !!(window.Bokeh && Bokeh.documents.length && [...Bokeh.index.all_views()].length > 50)")
    time.sleep(0.3)
    return browser


def wait(driver, script: str, timeout: float = 15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def model(name: str) -> str:
    """The JavaScript expression of the page's Bokeh model called ``name``."""
    return f"Bokeh.documents[0].get_model_by_name({name!r})"


MODEL = "return " + model("{}").replace("'{}'", "{!r}")


def text_of(driver, name: str) -> str:
    return driver.execute_script(MODEL.format(name) + ".text")


def test_loads_offline_without_console_errors(page):
    errors = [e for e in page.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    requests = [
        json.loads(e["message"])["message"]["params"]["request"]["url"]
        for e in page.get_log("performance")
        if json.loads(e["message"])["message"]["method"] == "Network.requestWillBeSent"
    ]
    assert requests and all(u.startswith(("file:", "data:", "blob:")) for u in requests), requests


def test_one_mark_per_concept_and_per_frame(page):
    counts = page.execute_script(
        "const v = [...Bokeh.index.all_views()];"
        "return ['concept-marks', 'frame-marks'].map((n) => v.find((x) => x.model.name === n).glyph.sx.length);"
    )
    assert counts == [13, 15]  # the concepts with a hit (the keyness table's 13 rows) and every frame


def click_item(driver, key: str) -> None:
    """A real mouse click on the item's mark (its screen position from the glyph view)."""
    from selenium.webdriver.common.action_chains import ActionChains

    x, y = driver.execute_script(
        """
        const key = arguments[0], views = [...Bokeh.index.all_views()];
        const items = Bokeh.documents[0].get_model_by_name('items');
        const i = items.data.key.indexOf(key);
        const name = items.data.kind[i] === 'frame' ? 'frame-marks' : 'concept-marks';
        const r = views.find((v) => v.model.name === name);
        const k = [...r.all_indices].indexOf(i);
        const box = r.parent.canvas_view.el.getBoundingClientRect();
        return [box.left + r.glyph.sx[k], box.top + r.glyph.sy[k]];
        """,
        key,
    )
    driver.execute_script("window.scrollTo(0, 0)")
    ActionChains(driver).move_by_offset(0, 0).perform()
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    actions = ActionBuilder(driver)
    actions.pointer_action.move_to_location(int(round(x)), int(round(y))).click()
    actions.perform()


def test_a_click_shows_patterns_and_lines_from_both_languages(page):
    click_item(page, "concept:economy")
    detail = wait(page, MODEL.format("detail") + ".text.includes('vx-side-en') && " + model("detail") + ".text")
    assert "Economy" in detail or "economy" in detail
    root = page.execute_script(
        "const v = [...Bokeh.index.all_views()].find((x) => x.model.name === 'detail'); return v.shadow_el || v.el;"
    )
    vi = [e.text for e in root.find_elements("css selector", ".vx-side-vi .vx-line")]
    en = [e.text for e in root.find_elements("css selector", ".vx-side-en .vx-line")]
    assert len(vi) == 2 and len(en) == 2
    assert any("kinh tế" in line for line in vi) and not any("_" in line for line in vi)  # words with spaces
    assert {line.split()[0] for line in vi} == {"v0", "v1"} and {line.split()[0] for line in en} == {"e0", "e1"}
    marked = [e.text for e in root.find_elements("css selector", ".vx-side-vi mark")]
    assert sorted(marked) == ["Kinh tế", "kinh tế"]


def counts(driver) -> tuple[int, int]:
    text = text_of(driver, "counts")
    return int(text.split('data-vi="')[1].split('"')[0]), int(text.split('data-en="')[1].split('"')[0])


def test_a_filter_changes_the_counts(page):
    assert counts(page) == (4, 2)
    page.execute_script(MODEL.format("filter-outlet") + ".value = ['1']")  # Báo A: v0, v1
    wait(page, MODEL.format("counts") + ".text.includes('data-vi=\"2\"')")
    assert counts(page) == (2, 0)
    rate = page.execute_script(
        "const d = Bokeh.documents[0].get_model_by_name('items').data;"
        "return d.rate_vi[d.key.indexOf('concept:cooperation')];"
    )
    assert rate == pytest.approx((300 / 2 + 100 / 4) / 2)  # hợp_tác: 3 hits in 2 sentences, 1 in 4


@pytest.mark.parametrize("typed", ["kinh tế", "Kinh_tế", "KINH TẾ"])
def test_search_finds_kinh_te_typed_any_way(page, typed):
    root = page.execute_script(
        "const v = [...Bokeh.index.all_views()].find((x) => x.model.name === 'search'); return v.shadow_el;"
    )
    box = root.find_element("css selector", "input")
    box.click()
    box.send_keys(typed)
    found = wait(page, MODEL.format("results") + ".text.includes('data-items')")
    text = text_of(page, "results")
    # the concept economy and the frame economy_trade; the two sentences with kinh_tế (v0, v1), once each
    assert 'data-items="2"' in text and 'data-lines="2"' in text
    assert "Economy" in text and "<mark>kinh tế</mark>" in text and "<mark>Kinh tế</mark>" in text
    assert found


def test_the_screenshot_is_not_blank(page, tmp_path):
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(page.get_screenshot_as_png())).convert("RGB")
    assert image.size[0] >= 1200
    stats = ImageStat.Stat(image.convert("L"))
    assert stats.stddev[0] > 20  # a blank (or one-colour) page has a deviation near 0
    assert len(image.getcolors(maxcolors=1 << 20)) > 200  # points, text, colours of the legend


def test_vietnamese_diacritics_render(page):
    """Each test word drawn with the page's font differs from the same word with a missing glyph
    (private-use U+E000) and from the word without its marks: the marks are drawn, not boxes."""
    result = page.execute_script(
        """
        const font = "16px 'DejaVu Sans', 'Noto Sans', 'Segoe UI', Arial, sans-serif";
        function pixels(text) {
          const c = document.createElement('canvas'); c.width = 200; c.height = 40;
          const g = c.getContext('2d'); g.font = font; g.fillStyle = '#000'; g.fillText(text, 4, 28);
          return Array.from(g.getImageData(0, 0, 200, 40).data).join(',');
        }
        const words = [
          ['Việt', 'Viet', 'Vi\\ue000t'], ['đẩy', 'day', '\\ue000\\ue000y'],
          ['hợp tác', 'hop tac', 'h\\ue000p t\\ue000c'],
        ];
        return words.map(([w, plain, missing]) => pixels(w) !== pixels(plain) && pixels(w) !== pixels(missing));
        """
    )
    assert result == [True, True, True]
    header = page.execute_script(
        "const v = [...Bokeh.index.all_views()].find((x) => x.model.name === 'header');"
        "return (v.shadow_el || v.el).textContent;"
    )
    assert "Báo" in header or "vi:" in header


def test_hostile_metadata_stays_inert_text(page):
    assert page.execute_script("return window.__pwned") is None
    header = page.execute_script(
        "const v = [...Bokeh.index.all_views()].find((x) => x.model.name === 'header');"
        "return (v.shadow_el || v.el).textContent;"
    )
    assert HOSTILE_OUTLET in header  # shown as text
    page.execute_script(MODEL.format("filter-outlet") + ".value = ['0']")  # the hostile outlet
    wait(page, MODEL.format("counts") + '.text.includes(\'data-vi="0" data-en="2"\')')
    click_item(page, "concept:economy")  # its English lines: e0, titled with an <img onerror>
    wait(page, MODEL.format("detail") + ".text.includes('vx-side-en')")
    root = page.execute_script(
        "const v = [...Bokeh.index.all_views()].find((x) => x.model.name === 'detail'); return v.shadow_el || v.el;"
    )
    titles = [e.get_attribute("title") for e in root.find_elements("css selector", ".vx-side-en .vx-line")]
    assert HOSTILE_TITLE in titles
    assert root.find_elements("css selector", "img, script") == []
    choices = page.execute_script(
        "const v = [...Bokeh.index.all_views()].find((x) => x.model.name === 'filter-outlet');"
        "return [...v.shadow_el.querySelectorAll('.choices__item')].map((e) => e.textContent);"
    )
    assert any(c.startswith(HOSTILE_OUTLET) for c in choices)
    assert page.execute_script("return window.__pwned") is None


def expected_rates(study_file, *, outlets: set[str] | None, events: set[str] | None, dates: tuple[str, str] | None):
    """Per item key and language, computed with pandas from the per-document hits: the mean over the
    documents a filter keeps of hits per 100 sentences, the hits, the documents with hits, the documents."""
    import numpy as np
    import pandas as pd

    from analysis.prepared import load_codebook, prepared_corpus
    from analysis.stages import explore

    study = aio.read_study(study_file)
    ps = prepared_corpus(study, progress=False)
    g = explore.gather(ps.prepared, ps.rules, load_codebook(study), window=3)
    meta = ps.docvars.loc[[str(d.doc_id) for d in ps.prepared]].reset_index(drop=True)
    meta["sentences"] = g.sentences
    keep = pd.Series(True, index=meta.index)
    if outlets:
        keep &= meta["outlet"].isin(outlets)
    if events:
        keep &= meta["event"].isin(events)
    if dates:
        keep &= pd.to_datetime(meta["date"]).between(pd.Timestamp(dates[0]), pd.Timestamp(dates[1]))
    kept = meta[keep]
    hits = g.hits.merge(g.items[["key"]], left_on="item", right_index=True)
    hits = hits[hits["doc"].isin(kept.index)]
    hits = hits.assign(rate=100 * hits["n"] / meta.loc[hits["doc"], "sentences"].to_numpy())
    hits = hits.assign(language=meta.loc[hits["doc"], "language"].to_numpy())
    out = {}
    for lang in ("vi", "en"):
        n_docs = int((kept["language"] == lang).sum())
        mine = (
            hits[hits["language"] == lang]
            .groupby("key")
            .agg(rate=("rate", "sum"), hits=("n", "sum"), docs=("doc", "nunique"))
        )
        for key in g.items["key"]:
            row = mine.loc[key] if key in mine.index else pd.Series({"rate": 0.0, "hits": 0, "docs": 0})
            out[(key, lang)] = (row["rate"] / n_docs if n_docs else np.nan, int(row["hits"]), int(row["docs"]), n_docs)
    return out


@pytest.mark.parametrize(
    ("outlets", "events", "dates"),
    [
        # outlets 0 (the hostile one: e0, e1) and 1 (Báo A: v0, v1), event e1, 15 March to 30 April: v1 and e0
        (["0", "1"], ["0"], ("2024-03-15", "2024-04-30")),
        (["2"], [], None),  # Báo B: v2, v3 and no English document
        ([], ["1"], ("2024-04-01", "2024-05-02")),  # event e2, 1 April to 2 May: v2, v3, e1
    ],
)
def test_filtered_rates_equal_a_pandas_computation_from_the_documents(page, explored, outlets, events, dates):  # noqa: F811
    import pandas as pd

    names = {"0": HOSTILE_OUTLET, "1": "Báo A", "2": "Báo B"}
    expected = expected_rates(
        explored,
        outlets={names[o] for o in outlets},
        events={["e1", "e2"][int(e)] for e in events},
        dates=dates,
    )
    ms = [pd.Timestamp(d).value // 1_000_000 for d in dates] if dates else None
    page.execute_script(
        """
        const [outlets, events, ms] = arguments, get = (n) => Bokeh.documents[0].get_model_by_name(n);
        get('filter-outlet').value = outlets;
        get('filter-event').value = events;
        if (ms) get('filter-date').value = ms;
        """,
        outlets,
        events,
        ms,
    )
    any_key = next(iter(expected))[0]
    n_vi, n_en = expected[(any_key, "vi")][3], expected[(any_key, "en")][3]
    wait(page, MODEL.format("counts") + f'.text.includes(\'data-vi="{n_vi}" data-en="{n_en}"\')')
    data = page.execute_script(
        "const d = Bokeh.documents[0].get_model_by_name('items').data;"
        "return Object.fromEntries(arguments[0].map((c) => [c, Array.from(d[c])]));",
        ["key", *(f"{c}_{lang}" for c in ("rate", "hits", "docs_hit", "docs") for lang in ("vi", "en"))],
    )
    assert len(data["key"]) == 28
    for k, key in enumerate(data["key"]):
        for lang in ("vi", "en"):
            rate, hits, docs_hit, docs = expected[(key, lang)]
            got = data[f"rate_{lang}"][k]
            assert (got is None) if rate != rate else got == pytest.approx(rate, rel=1e-12, abs=1e-12), (
                key,
                lang,
                got,
                rate,
            )
            assert (data[f"hits_{lang}"][k], data[f"docs_hit_{lang}"][k], data[f"docs_{lang}"][k]) == (
                hits,
                docs_hit,
                docs,
            ), (key, lang)
    assert 0 < n_vi + n_en < 6  # the filters keep some documents, not all
