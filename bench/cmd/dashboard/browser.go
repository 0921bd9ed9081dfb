package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// recorderJS runs in the page before its own scripts: it notes when the
// matrix first holds every cell, when the first Fleet arrived, and when
// each cell first showed each revision and readiness (see its comments).
//
//go:embed recorder.js
var recorderJS string

// browser is one headless Chromium with the dashboard's page open.
type browser struct {
	ctx    context.Context
	cancel func()
	dir    string
}

// chromiumFlags are the flags the browser starts with: headless, no
// sandbox (the benchmark may run as root), nothing that reaches the
// network by itself.
func chromiumFlags(binary, dir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(binary), chromedp.UserDataDir(dir),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1600, 1000),
	}
}

// openBrowser starts Chromium with a fresh profile.
func openBrowser(ctx context.Context, binary string) (*browser, error) {
	if _, err := os.Stat(binary); err != nil {
		return nil, fmt.Errorf("no Chromium at %s (hack/testenv.sh installs Debian's chromium; -chromium \"\" leaves the browser out): %w", binary, err)
	}
	dir, err := os.MkdirTemp("", "flotilla-bench-chromium-")
	if err != nil {
		return nil, err
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, chromiumFlags(binary, dir)...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	b := &browser{ctx: bctx, dir: dir, cancel: func() { cancelBrowser(); cancelAlloc(); os.RemoveAll(dir) }}
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		b.close()
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	return b, nil
}

// close stops the browser and removes its profile.
func (b *browser) close() { b.cancel() }

// load is what the page's load measured, in the page's own clock.
type load struct {
	// full is from the start of the navigation until the matrix held
	// every cell.
	full time.Duration
	// data is from the start of the navigation until the first Fleet had
	// arrived (the event stream's fleet event or /api/fleet's body); 0 when
	// the page read neither.
	data time.Duration
}

// render is the time from the data's arrival to the full matrix.
func (l load) render() time.Duration { return l.full - l.data }

// pageLoad is the recorder's summary of the load.
type pageLoad struct {
	Full *float64 `json:"full"`
	Data *float64 `json:"data"`
}

// open installs the recorder, navigates to url and waits until the matrix
// holds cells cells.
func (b *browser) open(url string, cells int, timeout time.Duration) (load, error) {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: fmt.Sprintf("window.__flotillaBenchCells = %d;\n%s", cells, recorderJS),
			})
			return err
		}),
		chromedp.Navigate(url+"/#/"),
	)
	if err != nil {
		return load{}, fmt.Errorf("opening %s: %w", url, err)
	}
	for {
		p, err := chromedp.Run(ctx, chromedp.Evaluate[pageLoad](`window.__flotillaBench.load()`))
		if err != nil {
			return load{}, fmt.Errorf("the matrix did not hold %d cells within %s: %w", cells, timeout, err)
		}
		if p.Full != nil {
			l := load{full: ms(*p.Full)}
			if p.Data != nil {
				l.data = ms(*p.Data)
			}
			return l, nil
		}
		select {
		case <-ctx.Done():
			return load{}, fmt.Errorf("the matrix did not hold %d cells within %s", cells, timeout)
		case <-time.After(pollInterval):
		}
	}
}

// cellTime is when (Unix milliseconds) the cell of stack in cluster first
// showed readiness ready at a revision that revision begins with, or
// false when it has not yet.
func (b *browser) cellTime(cluster, stack, revision, ready string) (time.Time, bool, error) {
	expr := fmt.Sprintf("window.__flotillaBench.seen(%q, %q, %q, %q)", cluster, stack, revision, ready)
	at, err := chromedp.Run(b.ctx, chromedp.Evaluate[*float64](expr))
	if err != nil {
		return time.Time{}, false, err
	}
	if at == nil {
		return time.Time{}, false, nil
	}
	return time.UnixMicro(int64(*at * 1000)), true, nil
}

// ms converts the page's milliseconds.
func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
