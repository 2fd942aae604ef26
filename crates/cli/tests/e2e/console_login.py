"""The console on a server with access keys, in a real browser: the sign-in page, a wrong
secret refused, the list once signed in, a read-only key refused a Stop (the page shows AWS's
AccessDeniedException), the CSRF header, signing out; and /console/api/* refused without a
session. The keys file is the one SigV4 requests are checked against ($STEPWISE_KEYS_FILE).

Screenshots go to $STEPWISE_SCREENSHOTS.
"""

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import boto3
from botocore.config import Config
from playwright.sync_api import expect, sync_playwright

from common import ROLE, URL, eq, run_tests

SHOTS = Path(os.environ.get("STEPWISE_SCREENSHOTS", "console-screenshots"))
SHOTS.mkdir(parents=True, exist_ok=True)
CHROMIUM = os.environ.get("STEPWISE_CHROMIUM", "/usr/bin/chromium")
KEYS = {k["user"]: k for k in json.loads(Path(os.environ["STEPWISE_KEYS_FILE"]).read_text())["keys"]}
ADMIN, READER = KEYS["alice"], KEYS["rita"]


def sfn_as(key):
    return boto3.client(
        "stepfunctions", endpoint_url=URL, region_name="us-east-1",
        aws_access_key_id=key["accessKeyId"], aws_secret_access_key=key["secretAccessKey"],
        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


sfn = sfn_as(ADMIN)
WAITING = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}})
SM = sfn.create_state_machine(name="guarded", definition=WAITING, roleArn=ROLE)["stateMachineArn"]
RUNNING = sfn.start_execution(stateMachineArn=SM, name="keeps-running")["executionArn"]

playwright = sync_playwright().start()
browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="light")
page = context.new_page()
page.set_default_timeout(15000)
page.on("pageerror", lambda e: print(f"page error: {e}"))


def sign_in(key, secret=None):
    page.goto(URL + "/")
    expect(page.locator("#sign-in-form")).to_be_visible()
    page.get_by_label("Access key ID").fill(key["accessKeyId"])
    page.get_by_label("Secret access key").fill(secret if secret is not None else key["secretAccessKey"])
    page.get_by_role("button", name="Sign in").click()


def plain_get(path):
    """A request with no cookie at all, as a script elsewhere would send it."""
    try:
        with urllib.request.urlopen(URL + path, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_without_a_session_the_console_api_is_refused():
    for path in ["/console/api/state-machines", f"/console/api/executions?stateMachineArn={quote(SM)}",
                 f"/console/api/execution?arn={quote(RUNNING)}"]:
        status, body = plain_get(path)
        eq(status, 401, path)
        eq(body["error"], "NotSignedIn", path)


def test_a_wrong_secret_is_refused_without_saying_which_part_was_wrong():
    sign_in(ADMIN, secret=ADMIN["secretAccessKey"] + "x")
    expect(page.locator("#sign-in-problem")).to_have_text("The access key ID or the secret access key is not valid.")
    expect(page.locator("#machines")).to_have_count(0)
    eq(context.cookies(), [], "no cookie after a refused sign-in")
    page.screenshot(path=str(SHOTS / "sign-in-refused.png"), full_page=True)


def test_the_sign_in_page_passes_axe_with_its_refusal_shown():
    """axe-core's WCAG 2.1 A and AA rules on the sign-in form, its refusal on the page: no
    violation of serious or critical impact."""
    expect(page.locator("#sign-in-problem")).not_to_be_empty()
    page.add_script_tag(path=os.environ["STEPWISE_AXE_JS"])
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.nodes[0].html.slice(0, 120)}`);
    }""")
    assert not found, "\n".join(found)


def test_signed_in_the_list_shows_and_the_cookie_is_http_only_and_strict():
    sign_in(ADMIN)
    expect(page.locator("#signed-in-as")).to_have_text("user/alice")
    expect(page.locator("#machines tr", has_text="guarded")).to_be_visible()
    cookie = next(c for c in context.cookies() if c["name"] == "stepwise_session")
    eq((cookie["httpOnly"], cookie["sameSite"]), (True, "Strict"), "cookie attributes")
    eq(page.evaluate("document.cookie"), "", "the session cookie is out of the page's reach")
    page.locator("#machines").get_by_role("link", name="Executions").click()
    expect(page.locator("#executions").get_by_role("link", name="keeps-running")).to_be_visible()
    # A POST from the page's origin with the cookie but without the CSRF header is refused.
    status = page.evaluate("""async (arn) => (await fetch('/console/api/execution/stop', {
        method: 'POST', headers: {'content-type': 'application/json'},
        body: JSON.stringify({executionArn: arn})})).status""", RUNNING)
    eq(status, 403, "a POST without the CSRF token")
    eq(sfn.describe_execution(executionArn=RUNNING)["status"], "RUNNING", "still running")


def test_signing_out_ends_the_session():
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#sign-in-form")).to_be_visible()
    status = page.evaluate("async () => (await fetch('/console/api/state-machines')).status")
    eq(status, 401, "after signing out")


def test_a_read_only_key_sees_the_execution_but_cannot_stop_it():
    sign_in(READER)
    expect(page.locator("#signed-in-as")).to_have_text("user/rita")
    page.goto(f"{URL}/#/execution/{quote(RUNNING, safe='')}")
    expect(page.locator("#exec-status")).to_have_text("RUNNING")
    page.locator("#stop").click()
    expect(page.locator("#action-outcome")).to_have_text(
        f"AccessDeniedException: User: arn:aws:iam::123456789012:user/rita is not authorized to perform: "
        f"states:StopExecution on resource: {RUNNING} because no identity-based policy allows the "
        f"states:StopExecution action")
    page.screenshot(path=str(SHOTS / "read-only-stop-refused.png"), full_page=True)
    eq(sfn.describe_execution(executionArn=RUNNING)["status"], "RUNNING", "not stopped")
    # The same key through the API gets the same refusal.
    try:
        sfn_as(READER).stop_execution(executionArn=RUNNING)
        raise AssertionError("the API let a read-only key stop an execution")
    except sfn.exceptions.ClientError as e:
        eq(e.response["Error"]["Code"], "AccessDeniedException", "API refusal")


def test_a_key_that_may_stop_stops_it_from_the_page():
    page.get_by_role("button", name="Sign out").click()
    sign_in(ADMIN)
    page.goto(f"{URL}/#/execution/{quote(RUNNING, safe='')}")
    expect(page.locator("#exec-status")).to_have_text("RUNNING")
    page.locator("#stop").click()
    expect(page.locator("#exec-status")).to_have_text("ABORTED")
    eq(sfn.describe_execution(executionArn=RUNNING)["status"], "ABORTED", "stopped")


try:
    run_tests(globals())
finally:
    browser.close()
    playwright.stop()
