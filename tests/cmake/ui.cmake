# SPDX-License-Identifier: MPL-2.0
# The status page in a real browser (issue 15): tests/browser drives
# Debian's chromium through chromium-driver with Debian's python3-selenium
# against a rack-sim rack; screenshots land in <build>/ui-screenshots/.
# Exit 77 (skipped, never passed) when the browser or driver is missing.
add_test(NAME test_ui_browser
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/browser/test_ui_browser.py)
set_tests_properties(test_ui_browser PROPERTIES LABELS e2e TIMEOUT 300
  SKIP_RETURN_CODE 77
  ENVIRONMENT "RACKDEPOT_BIN_DIR=${CMAKE_BINARY_DIR}/bin;UI_SCREENSHOT_DIR=${CMAKE_BINARY_DIR}/ui-screenshots")
