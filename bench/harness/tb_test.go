package harness

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/test/gitserver"
)

func TestTBCatchTurnsFatalIntoAnError(t *testing.T) {
	tb := NewTB(t.TempDir())
	reached := false
	err := tb.Catch(func() {
		tb.Fatalf("git %s failed", "push")
		reached = true
	})
	if err == nil || err.Error() != "git push failed" || reached {
		t.Errorf("err = %v, reached after Fatal = %v", err, reached)
	}
	if err := tb.Catch(func() {}); err != nil {
		t.Errorf("a clean run returned %v", err)
	}
}

func TestTBCatchJoinsErrorsAndRethrowsOtherPanics(t *testing.T) {
	tb := NewTB(t.TempDir())
	err := tb.Catch(func() { tb.Errorf("first %d", 1); tb.Error("second") })
	if err == nil || !strings.Contains(err.Error(), "first 1") || !strings.Contains(err.Error(), "second") {
		t.Errorf("err = %v, want both errors", err)
	}
	boom := errors.New("boom")
	defer func() {
		if r := recover(); r != boom {
			t.Errorf("recovered %v, want the original panic", r)
		}
	}()
	_ = tb.Catch(func() { panic(boom) })
}

func TestTBTempDirAndCleanup(t *testing.T) {
	base := t.TempDir()
	tb := NewTB(base)
	dir := tb.TempDir()
	if filepath.Dir(dir) != base {
		t.Errorf("TempDir %s is not under %s", dir, base)
	}
	var order []int
	tb.Cleanup(func() { order = append(order, 1) })
	tb.Cleanup(func() { order = append(order, 2) })
	tb.Close()
	if len(order) != 2 || order[0] != 2 {
		t.Errorf("cleanups ran in order %v, want last registered first", order)
	}
}

// TestTBDrivesGitserver pushes a commit with test/gitserver through a TB,
// as the benchmarks do.
func TestTBDrivesGitserver(t *testing.T) {
	if testing.Short() {
		t.Skip("runs git; skipped under -short (testing.Short)")
	}
	tb := NewTB(t.TempDir())
	defer tb.Close()
	var bare string
	err := tb.Catch(func() {
		root := &gitserver.Root{Dir: tb.TempDir()}
		bare = root.InitBare(tb, "fleet")
		wd := gitserver.NewWorkdir(tb, bare)
		wd.WriteFile(tb, "app/cm.yaml", "kind: ConfigMap\n")
		wd.Commit(tb, "add")
		wd.Push(tb, "main")
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(bare, "refs", "heads", "main")); err != nil {
		t.Errorf("main was not pushed: %v", err)
	}
	err = tb.Catch(func() { gitserver.NewWorkdir(tb, bare).Git(tb, "no-such-command") })
	if err == nil || !strings.Contains(err.Error(), "no-such-command") {
		t.Errorf("a failing git command returned %v", err)
	}
}
