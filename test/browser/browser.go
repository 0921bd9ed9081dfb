package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ExecPath is where Debian's chromium package installs the browser.
const ExecPath = "/usr/bin/chromium"

// DefaultTimeout bounds each step of a test (a navigation, a wait).
const DefaultTimeout = 30 * time.Second

// ScreenshotsEnv names the directory screenshots go to; without it they go
// to os.TempDir()/flotilla-dashboard-screenshots.
const ScreenshotsEnv = "FLOTILLA_SCREENSHOTS"

// Flags are the headless flags that work on a closed network: without the
// background-networking ones Chromium's own connections (updates, sync,
// QUIC probes) are refused and slow every page down.
var Flags = []string{
	"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
	"no-default-browser-check", "disable-dev-shm-usage",
}

// Browser is one headless Chromium with one tab.
type Browser struct {
	t       testing.TB
	ctx     context.Context
	timeout time.Duration

	mu     sync.Mutex
	errors []string
	ended  bool // the test ended: log nothing more
}

// Option configures Start.
type Option func(*settings)

type settings struct {
	width, height int
	timeout       time.Duration
}

// WithWindowSize sets the window's size in CSS pixels (default 1280x800).
func WithWindowSize(width, height int) Option {
	return func(s *settings) { s.width, s.height = width, height }
}

// WithTimeout bounds each step (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(s *settings) { s.timeout = d }
}

// Start starts Chromium with a fresh profile; it stops when the test ends.
// Exceptions the page throws and its console errors are logged to the test
// and kept (see Errors).
func Start(t testing.TB, opts ...Option) *Browser {
	t.Helper()
	s := settings{width: 1280, height: 800, timeout: DefaultTimeout}
	for _, o := range opts {
		o(&s)
	}
	if _, err := os.Stat(ExecPath); err != nil {
		t.Fatalf("Chromium is missing (%v): run hack/testenv.sh, which installs Debian's chromium package", err)
	}
	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ExecPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(s.width, s.height),
	}
	for _, f := range Flags {
		allocOpts = append(allocOpts, chromedp.Flag(f, true))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &Browser{t: t, ctx: ctx, timeout: s.timeout}
	t.Cleanup(func() {
		b.mu.Lock()
		b.ended = true
		b.mu.Unlock()
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium %s: %v (run hack/testenv.sh to install it)", ExecPath, err)
	}
	if err := chromedp.Listen(ctx, b.listen); err != nil {
		t.Fatalf("listening to the page's errors: %v", err)
	}
	return b
}

// listen keeps the page's exceptions and console errors.
func (b *Browser) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			msg += " " + ev.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var args []string
		for _, a := range ev.Args {
			args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
		}
		msg = "console.error: " + strings.Join(args, " ")
	default:
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return
	}
	b.errors = append(b.errors, msg)
	b.t.Logf("page %s", msg)
}

// Errors returns the exceptions and console errors the page produced.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// Do runs chromedp actions within one step's timeout.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// run runs one chromedp action that returns a value within one step's
// timeout.
func run[T any](b *Browser, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// must fails the test when err is not nil.
func (b *Browser) must(err error, format string, args ...any) {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}

// Navigate opens url and waits for the document to load.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.must(b.Do(chromedp.Navigate(url)), "opening %s", url)
}

// WaitVisible waits until an element matching selector is shown.
func (b *Browser) WaitVisible(selector string) {
	b.t.Helper()
	b.must(b.Do(chromedp.WaitVisible(chromedp.CSS(selector))), "waiting for %s to show", selector)
}

// WaitFor waits until the JavaScript expression is true, looking every
// 20 ms, for at most timeout; it fails the test after that.
func (b *Browser) WaitFor(expression string, timeout time.Duration) {
	b.t.Helper()
	if err := b.Poll(expression, timeout); err != nil {
		b.t.Fatalf("waiting %s for %s: %v", timeout, expression, err)
	}
}

// Poll waits until the JavaScript expression is true, looking every 20 ms,
// for at most timeout, and returns an error when it is not.
func (b *Browser) Poll(expression string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expression+")",
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	return err
}

// Eval evaluates a JavaScript expression and returns its value as T.
func Eval[T any](b *Browser, expression string) T {
	b.t.Helper()
	v, err := run(b, chromedp.Evaluate[T](expression))
	b.must(err, "evaluating %s", expression)
	return v
}

// Count returns how many elements match selector now.
func (b *Browser) Count(selector string) int {
	b.t.Helper()
	return Eval[int](b, fmt.Sprintf("document.querySelectorAll(%q).length", selector))
}

// Attr returns the attribute of the first element matching selector, ""
// when the element or the attribute is missing.
func (b *Browser) Attr(selector, name string) string {
	b.t.Helper()
	return Eval[string](b, fmt.Sprintf("(document.querySelector(%q)?.getAttribute(%q)) ?? ''", selector, name))
}

// Attrs returns the attribute of every element matching selector.
func (b *Browser) Attrs(selector, name string) []string {
	b.t.Helper()
	return Eval[[]string](b, fmt.Sprintf("Array.from(document.querySelectorAll(%q), e => e.getAttribute(%q) ?? '')", selector, name))
}

// Text returns the text of the first element matching selector, "" when
// there is none.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	return Eval[string](b, fmt.Sprintf("(document.querySelector(%q)?.innerText) ?? ''", selector))
}

// Click clicks the first element matching selector, once it is shown.
func (b *Browser) Click(selector string) {
	b.t.Helper()
	b.must(b.Do(chromedp.Click(chromedp.CSS(selector))), "clicking %s", selector)
}

// Focus focuses the first element matching selector.
func (b *Browser) Focus(selector string) {
	b.t.Helper()
	b.must(b.Do(chromedp.Focus(chromedp.CSS(selector))), "focusing %s", selector)
}

// Press sends keys to the focused element, as a person types them: text,
// or kb.ArrowRight, kb.Enter... from github.com/chromedp/chromedp/kb.
func (b *Browser) Press(keys string) {
	b.t.Helper()
	b.must(b.Do(chromedp.KeyEvent(keys)), "pressing %q", keys)
}

// Focused returns an attribute of the focused element, "" when it lacks it.
func (b *Browser) Focused(name string) string {
	b.t.Helper()
	return Eval[string](b, fmt.Sprintf("(document.activeElement?.getAttribute(%q)) ?? ''", name))
}

// Screenshot saves a PNG of the whole page as name (".png" added) in
// ScreenshotDir and returns its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	dir := ScreenshotDir(b.t)
	png, err := run(b, chromedp.FullScreenshot(100))
	b.must(err, "taking screenshot %s", name)
	path := filepath.Join(dir, name+".png")
	b.must(os.WriteFile(path, png, 0o644), "saving screenshot %s", name)
	b.t.Logf("screenshot: %s", path)
	return path
}

// ScreenshotDir returns the directory screenshots are kept in after the
// test ($FLOTILLA_SCREENSHOTS, or os.TempDir()/flotilla-dashboard-screenshots),
// creating it.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(ScreenshotsEnv)
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "flotilla-dashboard-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("creating the screenshot directory: %v", err)
	}
	return dir
}
