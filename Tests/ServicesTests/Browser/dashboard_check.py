#!/usr/bin/env python3
"""Drives the gateway's dashboard in headless Chromium (Debian's, through Playwright) and
prints what the pages show as one JSON object; the Swift test (GatewayDashboardTests)
checks it against the job records. Screenshots go to --screens.

Usage: dashboard_check.py --url URL --token TOKEN --ok JOB --failed JOB --slow JOB --screens DIR
"""
import argparse
import json
import sys

from playwright.sync_api import sync_playwright


def main():
    parser = argparse.ArgumentParser()
    for name in ("url", "token", "ok", "failed", "slow", "screens"):
        parser.add_argument("--" + name, required=True)
    args = parser.parse_args()
    seen = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        shot = lambda name: page.screenshot(path=f"{args.screens}/{name}.png", full_page=True)

        # Unauthenticated: sent to the login page; a wrong token is refused.
        page.goto(args.url + "/ui/")
        seen["redirected_to_login"] = page.url.endswith("/ui/login")
        page.fill("input[name=token]", "not-the-token")
        page.click("#login")
        seen["wrong_token_error"] = page.locator("#login-error").inner_text() if page.locator("#login-error").count() else None
        page.fill("input[name=token]", args.token)
        page.click("#login")
        page.wait_for_selector("#jobs")
        seen["cookie"] = [
            {k: c[k] for k in ("name", "httpOnly", "sameSite")} for c in page.context.cookies()]
        seen["job_rows"] = page.locator("tr.job-row").count()
        shot("jobs")

        # The running job, first, while its build still runs: Cancel stops it; the page reloads
        # when the job ends.
        response = page.goto(f"{args.url}/ui/jobs/{args.slow}")
        seen["slow_state_before"] = page.locator("#job-state").get_attribute("data-state")
        shot("job-running")
        if page.locator("#cancel").count() == 0:
            error = page.locator("#job-error")
            sys.exit(
                f"no Cancel button on the running job's page: HTTP {response.status if response else '?'}, "
                f"{page.url}, state {seen['slow_state_before']}, "
                f"error {error.inner_text() if error.count() else None}")
        page.click("#cancel")
        page.wait_for_selector("#job-state[data-state=cancelled]", timeout=60000)
        seen["slow_state_after"] = "cancelled"
        shot("job-cancelled")

        # The job that succeeded: timeline, rewrites, steps, artifact, the whole log.
        page.goto(f"{args.url}/ui/jobs/{args.ok}")
        page.wait_for_selector("#log[data-complete=true]", timeout=30000)
        seen["ok_state"] = page.locator("#job-state").get_attribute("data-state")
        seen["ok_bars"] = [
            {"stage": bar.get_attribute("data-stage"), "status": bar.get_attribute("data-status"),
             "duration_ms": int(bar.get_attribute("data-duration-ms"))}
            for bar in page.locator("rect.stage-bar").all()]
        seen["ok_labels"] = page.locator("#timeline text").all_text_contents()
        seen["ok_rewrites"] = page.locator("tr.rewrite").all_inner_texts()
        seen["ok_steps"] = page.locator("#steps").inner_text()
        seen["ok_artifact"] = page.locator("#artifact").inner_text()
        seen["ok_log"] = page.locator("#log .log-line").all_inner_texts()
        seen["ok_buttons"] = page.locator("main form button").all_inner_texts()
        shot("job-succeeded")

        # The failed job: its error on top; Retry queues it again.
        page.goto(f"{args.url}/ui/jobs/{args.failed}")
        page.wait_for_selector("#log[data-complete=true]", timeout=30000)
        seen["failed_error"] = page.locator("#job-error").inner_text()
        shot("job-failed")
        # Wait for the form's redirect itself: wait_for_load_state alone can return before the
        # navigation starts, and the redirect would then land after the next goto.
        with page.expect_navigation():
            page.click("#retry")
        seen["after_retry_state"] = page.locator("#job-state").get_attribute("data-state")

        # The workload page: one bar per finished build.
        page.goto(f"{args.url}/ui/workloads/dash")
        seen["workload_bars"] = page.locator("rect.duration-bar").count()
        shot("workload")
        browser.close()
    json.dump(seen, sys.stdout)


if __name__ == "__main__":
    main()
