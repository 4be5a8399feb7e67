#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""test_ui_browser: the replicator's status page in a real browser.

Starts a 4-sled rack-sim rack (mutual TLS; the page on the replicator's
loopback --ui-listen), opens `ui_url` in headless Chromium (Debian's
chromium and chromium-driver, driven by Debian's python3-selenium), and
checks: the page loads with no console error and no request outside the
rack's page origin; the grid shows every sled; the grid changes while a
repository distributes and ends with every sled complete. Screenshots
(before, during, after) go to $UI_SCREENSHOT_DIR (the build directory's
ui-screenshots/). Exit 0 pass, 1 fail, 77 skip (no browser installed).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("RACKDEPOT_BIN_DIR", "build/bin")
SHOTS = os.environ.get("UI_SCREENSHOT_DIR", "ui-screenshots")
SLEDS = 4


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(*argv, env=None, check=True):
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def wait(what, fn, timeout=90.0, every=0.25):
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f} s: {what}")
        time.sleep(every)


def grid_cells(drv):
    """{sled id: [cell text per repo]} as the page shows it (read in one
    script: the page redraws every second)."""
    rows = drv.execute_script(
        "return Array.from(document.querySelectorAll('#grid tbody tr')).map("
        "tr => [tr.dataset.sled, Array.from(tr.querySelectorAll('td')).slice(2)"
        ".map(td => td.firstChild ? td.firstChild.textContent : '')]);")
    return {sid: cells for sid, cells in rows or []}


def main():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        print("SKIP: python3-selenium is not installed (scripts/deps.sh installs it)")
        return 77
    chromium = shutil.which("chromium")
    driver_bin = shutil.which("chromedriver")
    if not chromium or not driver_bin:
        print("SKIP: chromium / chromium-driver are not installed (scripts/deps.sh installs them)")
        return 77
    os.makedirs(SHOTS, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="rdtest-ui-")
    os.chmod(tmp, 0o755)  # the postgres user reaches the rack directory
    rack = os.path.join(tmp, "rack")
    sim = os.path.join(BIN, "rack-sim")
    drv = None
    try:
        # 4 MiB/s per link: the distribution lasts a few seconds
        run(sim, "up", "--sleds", str(SLEDS), "--dir", rack,
            "--rate-limit", "4194304")
        st = json.loads(run(sim, "--dir", rack, "status", "--json").stdout)
        url = st["ui_url"]
        origin = url.rsplit("/ui", 1)[0]
        sled_ids = {s["id"] for s in st["sleds"]}
        assert len(sled_ids) == SLEDS, st["sleds"]
        log(f"rack up, page {url}")

        opts = webdriver.ChromeOptions()
        opts.binary_location = chromium
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1000",
                  f"--user-data-dir={os.path.join(tmp, 'chromium')}"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        drv = webdriver.Chrome(service=Service(driver_bin), options=opts)
        drv.set_page_load_timeout(60)
        drv.get_log("performance")  # drop the browser's own start page
        drv.get(url)
        wait("the page shows every sled",
             lambda: set(grid_cells(drv)) == sled_ids, timeout=60)
        wait("the page says it is live",
             lambda: drv.execute_script(
                 "return document.getElementById('conn').textContent") == "live",
             timeout=30)
        before = grid_cells(drv)
        drv.save_screenshot(os.path.join(SHOTS, "before.png"))
        log(f"before: {before}")

        # a repository of 4 artifacts of 8 MiB
        env = dict(os.environ)
        for line in run(sim, "--dir", rack, "env").stdout.splitlines():
            if line.startswith("export "):
                k, v = line[len("export "):].split("=", 1)
                env[k] = v.strip("'")
        zp = os.path.join(tmp, "repo.zip")
        run(os.path.join(BIN, "tuf-mkrepo"), "--out", zp, "--system-version", "1.0.0",
            "--random", "4:8388608", "--generate-key", os.path.join(tmp, "key.pem"))
        run(os.path.join(BIN, "replicator"), "repo", "upload", zp, env=env)
        run(os.path.join(BIN, "replicator"), "activate", "--no-wait", env=env)
        log("uploaded 1.0.0")

        def partial():
            g = grid_cells(drv)
            cells = [c for row in g.values() for c in row]
            if cells and any(c != "4 / 4" for c in cells) and any(c != "0 / 4" for c in cells):
                return g
            return None
        def complete():
            g = grid_cells(drv)
            return g if g and all(row == ["4 / 4"] for row in g.values()) else None
        during = None
        end = time.monotonic() + 120
        while time.monotonic() < end:
            during = partial()
            if during or complete():
                break
            time.sleep(0.1)
        drv.save_screenshot(os.path.join(SHOTS, "during.png"))
        log(f"during: {during}")
        after = wait("every sled complete on the page", complete, timeout=120)
        drv.save_screenshot(os.path.join(SHOTS, "after.png"))
        log(f"after: {after}")
        assert before != after, "the grid did not change"
        assert set(after) == sled_ids
        # the repository table and summary show the repository
        assert drv.execute_script(
            "return document.getElementById('repos').textContent.includes('1.0.0')")
        assert drv.execute_script(
            "return document.querySelectorAll('#requests tbody tr').length > 0"), \
            "no request listed"

        errors = [e for e in drv.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, f"console errors: {errors}"
        urls = set()
        for e in drv.get_log("performance"):
            m = json.loads(e["message"])["message"]
            if m.get("method") == "Network.requestWillBeSent":
                urls.add(m["params"]["request"]["url"])
        # every network request (chrome:// is the browser's own UI)
        outside = [u for u in urls if not (u.startswith(origin + "/") or
                                           u.startswith(("data:", "chrome:")))]
        assert urls, "no request seen in the performance log"
        assert not outside, f"requests outside the rack's page: {outside}"
        log(f"{len(urls)} distinct URLs requested, all on {origin}")
        if during is None:
            log("note: the distribution finished between two polls; no partial grid seen")
        return 0
    except Exception as e:  # the test's verdict, with the reason
        print(f"FAIL: {e}", file=sys.stderr)
        if drv:
            try:
                drv.save_screenshot(os.path.join(SHOTS, "failure.png"))
            except Exception:
                pass
        return 1
    finally:
        if drv:
            drv.quit()
        subprocess.run([sim, "--dir", rack, "down", "--purge"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
