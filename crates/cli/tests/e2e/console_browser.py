"""The web console in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
Playwright, clicking through as a user would. State machines and executions are made with
boto3, as any AWS client would make them; everything else happens in the page.

Screenshots go to $STEPWISE_SCREENSHOTS (the Rust harness puts them under target/).
"""

import json
import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import expect, sync_playwright

from common import ROLE, URL, client, eq, run_tests, wait_done

SHOTS = Path(os.environ.get("STEPWISE_SCREENSHOTS", "console-screenshots"))
SHOTS.mkdir(parents=True, exist_ok=True)
CHROMIUM = os.environ.get("STEPWISE_CHROMIUM", "/usr/bin/chromium")
PIPELINE = (Path(__file__).parent / "../../../../examples/orders-pipeline.asl.json").read_text()

sfn = client()
machine = sfn.create_state_machine(name="orders-pipeline", definition=PIPELINE, roleArn=ROLE, publish=True)
SM = machine["stateMachineArn"]
sfn.create_state_machine_alias(
    name="live", routingConfiguration=[{"stateMachineVersionArn": machine["stateMachineVersionArn"], "weight": 100}]
)

playwright = sync_playwright().start()
browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
# A laptop's screen.
page = browser.new_page(viewport={"width": 1440, "height": 900}, color_scheme="light")
page.set_default_timeout(15000)
# A script error in the page fails nothing by itself: show it beside the failure it causes.
page.on("pageerror", lambda e: print(f"page error: {e}"))


def start(name, payload):
    return sfn.start_execution(stateMachineArn=SM, name=name, input=json.dumps(payload))["executionArn"]


def open_execution(arn):
    page.goto(f"{URL}/#/execution/{quote(arn, safe='')}")
    # Only the hash changes: wait for this execution's page, not the one still showing.
    expect(page.locator("h1")).to_contain_text(arn.rsplit(":", 1)[1])
    expect(page.locator("#graph svg")).to_be_visible()


def node(state):
    return page.locator(f'#graph g[data-state="{state}"]')


def shot(name, whole_graph=False):
    if whole_graph:  # the graph box scrolls; let it grow for the picture
        page.evaluate("document.getElementById('graph').style.maxHeight = 'none'")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_machine_list_and_its_graph_of_30_states():
    page.goto(URL + "/")
    row = page.locator("#machines tr", has_text="orders-pipeline")
    expect(row).to_contain_text("STANDARD")
    expect(row.locator("td").nth(3)).to_have_text("1")  # one version
    expect(row.locator("td").nth(4)).to_have_text("1")  # one alias
    row.get_by_role("link", name="orders-pipeline").click()
    expect(page.locator("#graph g[data-state]")).to_have_count(30)
    # Parallel branches and the Map are clusters around their states.
    expect(page.locator('#graph g.branch')).to_have_count(3)
    expect(page.locator('#graph g.cluster[data-state="Fan out"]')).to_have_count(1)
    expect(page.locator("#graph g.edge-catch")).to_have_count(1)
    expect(page.locator("#definition")).to_contain_text('"StartAt": "Receive order"')
    expect(page.get_by_role("cell", name="live", exact=True)).to_be_visible()
    shot("machine-graph-30-states", whole_graph=True)


def test_edit_the_definition_with_live_diagnostics_and_save_a_version():
    page.goto(URL + "/")
    page.locator("#machines").get_by_role("link", name="orders-pipeline").click()
    page.locator("#edit").click()
    editor = page.locator("#editor")
    expect(page.locator("#verdict")).to_have_text("Valid.")
    text = editor.input_value()
    broken = text.replace('"Next": "Pack"', '"Next": "Packing"')
    assert broken != text
    editor.fill(broken)
    # The missing target, and the states it leaves unreachable.
    diag = page.locator("#diagnostics button", has_text="/States/Summarize/Next")
    expect(diag).to_contain_text("MISSING_TRANSITION_TARGET: Missing 'Next' target: Packing")
    expect(page.locator("#diagnostics button", has_text="is not reachable")).to_have_count(7)
    expect(page.locator("#save-version")).to_be_disabled()
    shot("editor-diagnostics")
    diag.click()
    # The location is marked in the text: the "Next" key of "Summarize".
    start, end = editor.evaluate("e => [e.selectionStart, e.selectionEnd]")
    eq(broken[start:end], '"Next"', "selected text")
    assert broken.rfind('"Summarize"', 0, start) > broken.rfind('"Pack"', 0, start), "inside Summarize"
    # Fixed, with a new state: valid again, the graph redrawn from the text, saved as version 2.
    fixed = text.replace('"Next": "Pack"', '"Next": "Weigh"').replace(
        '"Pack": {', '"Weigh": { "Type": "Pass", "Next": "Pack" },\n    "Pack": {')
    editor.fill(fixed)
    expect(page.locator("#verdict")).to_have_text("Valid.")
    expect(page.locator("#graph g[data-state]")).to_have_count(31)
    page.locator("#save-version").click()
    expect(page.locator("#saved")).to_contain_text("Saved as version 2")
    expect(page.locator("#graph g[data-state]")).to_have_count(31)
    versions = sfn.list_state_machine_versions(stateMachineArn=SM)["stateMachineVersions"]
    eq(len(versions), 2, "versions")


def test_a_failed_execution_with_a_caught_error_is_coloured_as_aws_colours_it():
    arn = start("caught", {"fail": True, "fatal": True})
    wait_done(sfn, arn)
    page.goto(URL + "/#/executions")
    page.locator("#executions").get_by_role("link", name="caught").click()
    expect(page.locator("#exec-status")).to_have_text("FAILED")
    expect(page.locator("#exec-error")).to_contain_text("Order.Failed")
    want = {
        "Enrich": ("caught", "rgb(255, 232, 198)"),
        "Enrichment failed": ("failed", "rgb(253, 226, 223)"),
        "Give up": ("failed", "rgb(253, 226, 223)"),
        "Compensate": ("succeeded", "rgb(215, 240, 208)"),
        "Pause": ("cancelled", "rgb(233, 235, 237)"),
        "Summarize": ("notreached", "rgb(255, 255, 255)"),
    }
    for state, (status, fill) in want.items():
        expect(node(state)).to_have_attribute("data-status", status)
        got = node(state).locator("rect").first.evaluate("r => getComputedStyle(r).fill")
        eq(got, fill, f"{state}'s colour")
    # The states table, and a state's input, output, error and cause side by side.
    expect(page.locator('#states tr[data-state="Enrich"]')).to_contain_text("caught")
    node("Enrichment failed").click()
    expect(page.locator("#state-title")).to_contain_text("Enrichment failed")
    expect(page.locator("#state-error")).to_contain_text("Enrich.Failed")
    expect(page.locator("#state-error")).to_contain_text("The enrichment service said no.")
    # By keyboard: focus a state in the graph and press Enter.
    node("Compensate").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#state-title")).to_contain_text("Compensate")
    expect(page.locator("#state-input")).to_contain_text('"fatal": true')
    expect(page.locator("#state-output")).to_contain_text("Enrich.Failed")
    shot("execution-failed-with-caught-error", whole_graph=True)


def test_the_replay_timeline_moves_the_highlighted_state():
    arn = sfn.list_executions(stateMachineArn=SM, statusFilter="FAILED")["executions"][0]["executionArn"]
    open_execution(arn)
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = next(e["id"] for e in events if e.get("stateEnteredEventDetails", {}).get("name") == "Compensate")
    slider = page.locator("#replay")
    slider.fill(str(entered))
    expect(page.locator("#replay-at")).to_contain_text(f"event {entered} of {len(events)}")
    expect(node("Compensate")).to_have_attribute("data-status", "running")
    expect(node("Compensate")).to_have_class(re.compile(r"\bcurrent\b"))
    expect(node("Give up")).to_have_attribute("data-status", "notreached")
    expect(page.locator(f'#history .row[data-id="{entered}"]')).to_have_class(re.compile("selected"))
    # The data as it was at that event: Compensate's input, and no output yet.
    node("Compensate").click()
    expect(page.locator("#state-title")).to_contain_text("Compensate")
    expect(page.locator("#state-input")).to_contain_text('"error"')
    expect(page.locator("#state-output")).to_have_text("")
    shot("replay-middle-event")
    # Event by event: the next event leaves Compensate, and it turns green, with its output.
    page.locator("#next-event").click()
    expect(node("Compensate")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#state-output")).to_contain_text('"error"')
    # State by state: the next state change enters "Fatal?".
    page.locator("#next-state").click()
    expect(node("Fatal?")).to_have_attribute("data-status", "running")
    page.locator("#prev-state").click()
    page.locator("#prev-event").click()
    expect(node("Compensate")).to_have_attribute("data-status", "running")


def test_a_running_execution_turns_green_without_a_reload():
    arn = start("slow", {"slow": True})  # waits 3 s in "Hold"
    page.goto(URL + "/#/executions")
    page.locator("#executions").get_by_role("link", name="slow").click()
    expect(page.locator("#exec-status")).to_have_text("RUNNING")
    expect(node("Hold")).to_have_attribute("data-status", "running")
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#exec-status")).to_have_text("SUCCEEDED", timeout=20000)
    expect(node("Done")).to_have_attribute("data-status", "succeeded")
    expect(node("Hold")).to_have_attribute("data-status", "succeeded")
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    shot("execution-live-succeeded")
    eq(wait_done(sfn, arn)["status"], "SUCCEEDED")


def test_stop_one_from_its_page():
    arn = start("to-stop", {"slow": True})
    open_execution(arn)
    expect(page.locator("#exec-status")).to_have_text("RUNNING")
    page.locator("#stop").click()
    expect(page.locator("#exec-status")).to_have_text("ABORTED")
    expect(node("Hold")).to_have_attribute("data-status", "cancelled")
    eq(sfn.describe_execution(executionArn=arn)["status"], "ABORTED")


def test_redrive_one_from_its_page():
    arn = sfn.describe_execution(
        executionArn=SM.replace(":stateMachine:", ":execution:") + ":caught"
    )["executionArn"]
    open_execution(arn)
    page.locator("#redrive").click()
    deadline = time.monotonic() + 15
    while sfn.describe_execution(executionArn=arn).get("redriveCount", 0) < 1:
        assert time.monotonic() < deadline, "not redriven"
        time.sleep(0.1)
    wait_done(sfn, arn)
    page.reload()
    expect(page.locator("#exec-redrives")).to_contain_text("redriven 1")


def test_bulk_stop_of_the_selected():
    a, b = start("bulk-a", {"slow": True}), start("bulk-b", {"slow": True})
    page.goto(URL + "/#/executions?status=RUNNING")
    for name in ("bulk-a", "bulk-b"):
        page.locator(f'#executions tr[data-name="{name}"] input[type=checkbox]').check()
    page.locator("#bulk-stop").click()
    expect(page.locator("#bulk-outcome")).to_contain_text("Stopped: 2")
    for arn in (a, b):
        eq(sfn.describe_execution(executionArn=arn)["status"], "ABORTED")


def test_the_executions_list_filters_by_name_prefix_and_start_time():
    before = start("search-before", {})
    wait_done(sfn, before)
    time.sleep(1.1)  # the range's inputs are to the second
    middle = sfn.describe_execution(executionArn=before)["startDate"].timestamp() + 1
    hits = [start(f"search-hit-{i}", {}) for i in range(3)]
    for arn in hits:
        wait_done(sfn, arn)
    page.goto(URL + "/#/executions")
    # The list of the previous test (status RUNNING) has these inputs too: wait for this one.
    expect(page.locator("#filter-status")).to_have_value("")
    page.get_by_label("Name starts with").fill("search-")
    page.get_by_label("Name starts with").press("Enter")
    rows = page.locator("#executions tbody tr")
    expect(rows).to_have_count(4)
    eq(rows.evaluate_all("rs => rs.map(r => r.dataset.name)"),
       ["search-hit-2", "search-hit-1", "search-hit-0", "search-before"], "newest first")
    # Started from the second after the first one: the three later ones; the address keeps it.
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(int(middle)))
    page.get_by_label("Started from").fill(stamp)
    page.get_by_label("Started from").dispatch_event("change")
    expect(rows).to_have_count(3)
    assert "name=search-" in page.url and "from=" in page.url, page.url
    page.reload()
    expect(rows).to_have_count(3)
    expect(page.get_by_label("Name starts with")).to_have_value("search-")
    page.get_by_label("Name starts with").fill("search-nothing")
    page.get_by_label("Name starts with").press("Enter")
    expect(page.locator("main")).to_contain_text("No executions match.")


def test_start_again_with_edited_input_and_dark_mode():
    arn = sfn.list_executions(stateMachineArn=SM, statusFilter="SUCCEEDED")["executions"][0]["executionArn"]
    open_execution(arn)
    page.locator("summary", has_text="Start again").click()
    area = page.locator("#again-input")
    area.fill("{not json")
    expect(page.locator("#start-problem")).to_contain_text("Not JSON")
    expect(page.locator("#start")).to_be_disabled()
    area.fill(json.dumps({"kind": "bulk", "items": [{"value": 5}, {"value": 500}]}))
    page.locator("#start-name").fill("again-bulk")
    page.locator("#start").click()
    expect(page.locator("h1")).to_contain_text("again-bulk")
    expect(page.locator("#exec-status")).to_have_text("SUCCEEDED", timeout=20000)
    expect(node("Flag big")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("main")).not_to_contain_text("null")  # no empty part shown as "null"
    # Pick a Map iteration and see its path: item 0 (value 5) skips "Flag big", item 1 (500) takes it.
    page.locator('#states tr[data-state="Fan out"]').click()
    page.locator("#iteration").select_option("0")
    expect(node("Flag big")).to_have_attribute("data-status", "notreached")
    expect(node("Item done")).to_have_attribute("data-status", "succeeded")
    page.locator("#iteration").select_option("1")
    expect(node("Flag big")).to_have_attribute("data-status", "succeeded")
    shot("map-iteration-1")
    page.locator("#iteration").select_option("")
    expect(node("Flag big")).to_have_attribute("data-status", "succeeded")
    page.locator("#theme").click()
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    eq(bg, "rgb(15, 20, 25)", "dark background")
    shot("execution-map-dark")
    page.locator("#theme").click()


CONTRAST = """() => {
    // WCAG 2 contrast of each status badge's text and of each state's label on its fill.
    const rgb = (c) => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
    const lum = (c) => {
        const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
    const out = [];
    for (const b of document.querySelectorAll(".legend .badge")) {
        const s = getComputedStyle(b);
        out.push([b.textContent, ratio(s.color, s.backgroundColor)]);
    }
    for (const g of document.querySelectorAll("#graph g[data-state]")) {
        const fill = getComputedStyle(g.querySelector("rect")).fill;
        const text = getComputedStyle(g.querySelector("text")).fill;
        out.push([`${g.dataset.state} (${g.dataset.status})`, ratio(text, fill)]);
    }
    return out;
}"""


def test_text_keeps_its_contrast_in_both_themes():
    arn = sfn.list_executions(stateMachineArn=SM, statusFilter="FAILED")["executions"][0]["executionArn"]
    for theme in ("light", "dark"):
        page.evaluate(f"localStorage.setItem('stepwise-theme', '{theme}')")
        open_execution(arn)
        page.reload()
        expect(page.locator("#graph svg")).to_be_visible()
        worst = min(page.evaluate(CONTRAST), key=lambda x: x[1])
        print(f"FIGURE contrast {theme}: lowest {worst[1]:.2f}:1 ({worst[0]})")
        assert worst[1] >= 4.5, f"{theme}: {worst[0]} has contrast {worst[1]:.2f}:1"
    page.evaluate("localStorage.removeItem('stepwise-theme')")


def test_a_25000_event_history_opens_fast_and_scrolls_without_rendering_every_event():
    # A Map of 6,245 Pass iterations: 4 events each, 24,986 events with the Map's and the execution's own (AWS's limit is 25,000).
    big = sfn.create_state_machine(name="big-history", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.items", "End": True,
            "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}}}}}))
    arn = sfn.start_execution(stateMachineArn=big["stateMachineArn"], name="big",
                              input=json.dumps({"items": [0] * 6245}))["executionArn"]
    eq(wait_done(sfn, arn, timeout=120)["status"], "SUCCEEDED")
    began = time.monotonic()
    open_execution(arn)
    expect(page.locator("#history-title")).to_have_text("Event history (24986)")
    opened = time.monotonic() - began
    rows = page.locator("#history .row:not(.head)").count()
    assert rows < 80, f"{rows} rows in the page: every event was rendered"
    # Scroll to the end in steps, as a wheel would, timing each frame.
    frame_ms = page.evaluate("""async () => {
        const h = document.getElementById('history');
        const times = [];
        for (let i = 0; i < 60; i++) {
            const t0 = performance.now();
            h.scrollTop = (h.scrollHeight - h.clientHeight) * (i + 1) / 60;
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        return [times[Math.floor(times.length / 2)], times[times.length - 1]];
    }""")
    expect(page.locator('#history .row[data-id="24986"]')).to_contain_text("ExecutionSucceeded")
    rows = page.locator("#history .row:not(.head)").count()
    assert rows < 80, f"{rows} rows after scrolling"
    print(f"FIGURE 25k-history: page opened in {opened:.2f} s; {rows} rows in the DOM; "
          f"scroll frame p50 {frame_ms[0]:.1f} ms, max {frame_ms[1]:.1f} ms")
    shot("history-25000-events-scrolled")


def test_a_distributed_maps_run_links_to_its_children_and_back():
    fanout = sfn.create_state_machine(name="fanout", roleArn=ROLE, definition=json.dumps({
        "StartAt": "Each",
        "States": {"Each": {
            "Type": "Map", "ItemsPath": "$.items", "Label": "Orders", "ToleratedFailurePercentage": 50,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Check",
                "States": {
                    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.bad", "BooleanEquals": True, "Next": "Bad"}],
                              "Default": "Good"},
                    "Bad": {"Type": "Fail", "Error": "BadItem"},
                    "Good": {"Type": "Pass", "End": True}}},
            "End": True}}}))["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=fanout, name="fan",
                              input=json.dumps({"items": [{"n": i, "bad": i == 4} for i in range(12)]}))["executionArn"]
    eq(wait_done(sfn, arn)["status"], "SUCCEEDED", "the parent")
    open_execution(arn)
    runs = page.locator("#map-runs tbody tr")
    expect(runs).to_have_count(1)
    expect(runs.first).to_contain_text("Orders")
    expect(runs.first).to_contain_text("SUCCEEDED")
    runs.first.locator("a").click()
    expect(page.locator("h1")).to_contain_text("Orders")
    expect(page.locator('#map-run-counts tr[data-counts="Child executions"] td[data-count="succeeded"]')).to_have_text("11")
    expect(page.locator('#map-run-counts tr[data-counts="Child executions"] td[data-count="failed"]')).to_have_text("1")
    expect(page.locator("#map-run-children tbody tr")).to_have_count(12)
    shot("map-run")
    page.locator("#children-status").select_option("FAILED")
    expect(page.locator("#map-run-children tbody tr")).to_have_count(1)
    page.locator("#map-run-children tbody tr a").click()
    expect(page.locator("#exec-status")).to_have_text("FAILED")
    expect(page.locator("#exec-error")).to_contain_text("BadItem")
    expect(node("Bad")).to_have_attribute("data-status", "failed")
    page.locator("#parent-map-run").click()
    expect(page.locator("#map-run-parent")).to_be_visible()
    page.locator("#map-run-parent").click()
    expect(page.locator("#map-runs")).to_be_visible()


def test_every_kind_of_page_passes_axe_in_both_themes():
    """axe-core's WCAG 2.1 A and AA rules on each kind of page, light and dark: no violation
    of serious or critical impact."""
    caught = SM.replace(":stateMachine:", ":execution:") + ":caught"
    fan = sfn.list_state_machines()["stateMachines"]
    fan = next(m["stateMachineArn"] for m in fan if m["name"] == "fanout")
    run = sfn.list_map_runs(executionArn=fan.replace(":stateMachine:", ":execution:") + ":fan")["mapRuns"][0]
    pages = {
        "state machines": "#/",
        "a state machine": f"#/state-machine/{quote(SM, safe='')}",
        "executions": f"#/executions?sm={quote(SM, safe='')}",
        "an execution": f"#/execution/{quote(caught, safe='')}",
        "a Map Run": f"#/map-run/{quote(run['mapRunArn'], safe='')}",
    }
    problems = []
    for theme in ("light", "dark"):
        page.evaluate(f"localStorage.setItem('stepwise-theme', '{theme}')")
        for what, where in pages.items():
            page.goto(f"{URL}/{where}")
            page.reload()  # the theme is read as the page loads
            expect(page.locator("main h1").first).to_be_visible()
            page.wait_for_load_state("networkidle")
            page.add_script_tag(path=os.environ["STEPWISE_AXE_JS"])
            found = page.evaluate("""async () => {
                const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
                return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => `${v.id} (${v.impact}, ${v.nodes.length}): ${v.nodes[0].html.slice(0, 120)}`);
            }""")
            problems += [f"{theme}, {what}: {p}" for p in found]
    page.evaluate("localStorage.removeItem('stepwise-theme')")
    assert not problems, "\n".join(problems)


def test_mermaid_parses_the_graph_of_every_example():
    page.goto(URL + "/")
    page.add_script_tag(path=os.environ["STEPWISE_MERMAID_JS"])
    examples = sorted((Path(__file__).parent / "../../../../examples").glob("*.asl.json"))
    parsed = 0
    for f in examples:
        out = subprocess.run([os.environ["STEPWISE_BIN"], "graph", str(f)], capture_output=True, text=True)
        if out.returncode == 1:
            continue  # broken.asl.json fails validation, as it should
        eq(out.returncode, 0, f"stepwise graph {f.name}")
        verdict = page.evaluate(
            "async t => { try { await mermaid.parse(t); return 'ok'; } catch (e) { return String(e && e.message || e); } }",
            out.stdout,
        )
        eq(verdict, "ok", f"Mermaid's parser on {f.name}")
        parsed += 1
    assert parsed >= 3, parsed


try:
    run_tests(globals())
finally:
    browser.close()
    playwright.stop()
