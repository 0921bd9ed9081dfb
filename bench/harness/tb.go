package harness

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// TB lets a program call test/gitserver, whose helpers take a testing.TB
// and report failures through it: Fatal panics with a value that Catch
// turns back into an error, TempDir makes directories under a base the
// caller removes, and Cleanup functions run on Close. Only the methods the
// git helpers use are implemented; any other panics.
type TB struct {
	testing.TB // nil: satisfies the interface's unexported method

	base string

	mu       sync.Mutex
	errs     []error
	cleanups []func()
}

// NewTB returns a TB whose temporary directories go under base.
func NewTB(base string) *TB { return &TB{base: base} }

// fatal is the panic value of TB.Fatal.
type fatal struct{ err error }

// Catch runs fn and returns the error of a Fatal inside it, joined with
// those of Error calls; any other panic goes on.
func (t *TB) Catch(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			err = f.err
		}
		t.mu.Lock()
		err = errors.Join(append([]error{err}, t.errs...)...)
		t.errs = nil
		t.mu.Unlock()
	}()
	fn()
	return nil
}

// Close runs the Cleanup functions, last registered first.
func (t *TB) Close() {
	t.mu.Lock()
	fns := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// Helper implements testing.TB.
func (t *TB) Helper() {}

// Name implements testing.TB.
func (t *TB) Name() string { return "bench" }

// Cleanup implements testing.TB.
func (t *TB) Cleanup(fn func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, fn)
}

// Fatal implements testing.TB.
func (t *TB) Fatal(args ...any) { panic(fatal{errors.New(fmt.Sprint(args...))}) }

// Fatalf implements testing.TB.
func (t *TB) Fatalf(format string, args ...any) { panic(fatal{fmt.Errorf(format, args...)}) }

// Error implements testing.TB.
func (t *TB) Error(args ...any) { t.record(errors.New(fmt.Sprint(args...))) }

// Errorf implements testing.TB.
func (t *TB) Errorf(format string, args ...any) { t.record(fmt.Errorf(format, args...)) }

// Log implements testing.TB; the git helpers' logs are dropped.
func (t *TB) Log(...any) {}

// Logf implements testing.TB.
func (t *TB) Logf(string, ...any) {}

// TempDir implements testing.TB.
func (t *TB) TempDir() string {
	dir, err := os.MkdirTemp(t.base, "tmp-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func (t *TB) record(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errs = append(t.errs, err)
}
