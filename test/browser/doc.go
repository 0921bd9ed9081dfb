// Package browser drives Debian's Chromium headless through chromedp for
// the dashboard's browser tests: start a browser, open a page, wait for
// an element or a condition, count elements, read attributes, click, type,
// and keep screenshots.
//
// Chromium comes from hack/testenv.sh (Debian's chromium package, at
// /usr/bin/chromium). A missing Chromium fails the test with a message
// saying so; it never skips.
//
// It is for tests only: each helper fails the test on error, so a test
// reads as the steps a person takes. It is not a general browser library.
package browser
