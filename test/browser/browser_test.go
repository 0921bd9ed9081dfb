package browser

import (
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
)

// page is a small page with what the helpers read: a list, attributes, a
// button that adds an item later, keys that move focus, a thrown error.
const page = `<!doctype html>
<html data-theme="light"><body>
<ul id="list"><li data-n="1">one</li><li data-n="2">two</li></ul>
<button id="add" onclick="setTimeout(() => { const li = document.createElement('li'); li.dataset.n = '3'; li.textContent = 'three'; list.append(li) }, 100)">add</button>
<input id="a" data-name="a"><input id="b" data-name="b">
<script>
document.addEventListener('keydown', e => { if (e.key === 'ArrowDown') { e.preventDefault(); b.focus() } })
setTimeout(() => { throw new Error('planted') }, 0)
</script>
</body></html>`

// TestBrowserReadsAndDrivesAPage drives the real Chromium through each
// helper against a local page.
func TestBrowserReadsAndDrivesAPage(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: drives Debian's Chromium")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(page))
	}))
	defer srv.Close()
	t.Setenv(ScreenshotsEnv, t.TempDir())

	b := Start(t, WithWindowSize(800, 600))
	b.Navigate(srv.URL)
	b.WaitVisible("#list")
	if n := b.Count("#list li"); n != 2 {
		t.Errorf("Count(#list li) = %d, want 2", n)
	}
	if got := b.Attr("html", "data-theme"); got != "light" {
		t.Errorf("Attr(html, data-theme) = %q, want light", got)
	}
	if got := b.Attr("#missing", "data-n"); got != "" {
		t.Errorf("Attr of a missing element = %q, want empty", got)
	}
	if got := b.Text("#list li"); got != "one" {
		t.Errorf("Text(#list li) = %q, want one", got)
	}
	b.Click("#add")
	b.WaitFor(`document.querySelectorAll("#list li").length === 3`, 5*time.Second)
	if got := b.Attrs("#list li", "data-n"); len(got) != 3 || got[2] != "3" {
		t.Errorf("Attrs(#list li, data-n) = %q, want [1 2 3]", got)
	}
	if err := b.Poll(`document.querySelector("#never")`, 200*time.Millisecond); err == nil {
		t.Error("Poll for an element that never comes returned no error")
	}
	b.Focus("#a")
	b.Press(kb.ArrowDown)
	if got := b.Focused("data-name"); got != "b" {
		t.Errorf("focus after ArrowDown is on %q, want b", got)
	}
	b.Press("x")
	if typed := Eval[string](b, "document.querySelector('#b').value"); typed != "x" {
		t.Errorf("typed %q into #b, want x", typed)
	}
	path := b.Screenshot("page")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is no PNG: %v", err)
	}
	if w := img.Bounds().Dx(); w != 800 {
		t.Errorf("the screenshot is %d pixels wide, want the window's 800", w)
	}
	b.WaitFor("true", time.Second)
	if errs := b.Errors(); len(errs) == 0 {
		t.Error("the page's planted exception was not kept")
	}
}
