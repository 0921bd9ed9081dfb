package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/google/pprof/profile"

	"github.com/flotilla-io/flotilla/internal/localfleet"
)

// profileWindow is the length of each CPU profile a CPUProfiler asks for:
// Go's /debug/pprof/profile takes whole seconds, so a window of any length
// is recorded as consecutive one-second profiles, merged at the end.
const profileWindow = "1"

// CPUProfiler records a process's CPU profile over a window of the
// benchmark's choosing, through the process's /debug/pprof endpoint
// (`flotilla agent --pprof-addr`).
type CPUProfiler struct {
	base   string
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	profiles []*profile.Profile
	err      error
}

// PprofAddr returns a free loopback address for an agent's --pprof-addr.
func PprofAddr() (string, error) { return localfleet.FreeLoopbackAddr() }

// StartCPUProfile starts recording the CPU profile of the process serving
// /debug/pprof at addr, until Stop.
func StartCPUProfile(ctx context.Context, addr string) *CPUProfiler {
	ctx, cancel := context.WithCancel(ctx)
	p := &CPUProfiler{base: "http://" + addr + "/debug/pprof/", cancel: cancel, done: make(chan struct{})}
	go p.record(ctx)
	return p
}

// record asks for one-second profiles back to back until ctx ends; the
// profile under way when Stop is called is kept, so the window is covered.
func (p *CPUProfiler) record(ctx context.Context) {
	defer close(p.done)
	for ctx.Err() == nil {
		prof, err := fetchProfile(context.WithoutCancel(ctx), p.base+"profile?seconds="+profileWindow)
		p.mu.Lock()
		if err != nil {
			p.err = errors.Join(p.err, err)
			p.mu.Unlock()
			return
		}
		p.profiles = append(p.profiles, prof)
		p.mu.Unlock()
	}
}

// Stop ends the recording and writes the merged profile to path, in
// pprof's format (`go tool pprof path`).
func (p *CPUProfiler) Stop(path string) error {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return fmt.Errorf("recording the CPU profile: %w", p.err)
	}
	merged, err := profile.Merge(p.profiles)
	if err != nil {
		return fmt.Errorf("merging %d CPU profiles: %w", len(p.profiles), err)
	}
	return writeProfile(merged, path)
}

// WriteHeapProfile writes the heap profile of the process serving
// /debug/pprof at addr to path.
func WriteHeapProfile(ctx context.Context, addr, path string) error {
	prof, err := fetchProfile(ctx, "http://"+addr+"/debug/pprof/heap")
	if err != nil {
		return err
	}
	return writeProfile(prof, path)
}

// fetchProfile GETs url and parses the profile it returns.
func fetchProfile(ctx context.Context, url string) (*profile.Profile, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return profile.Parse(resp.Body)
}

// writeProfile writes prof to path, gzipped as pprof writes it.
func writeProfile(prof *profile.Profile, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := prof.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
