package apply

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChangeSet(t *testing.T) {
	ns := ObjMetadata{Version: "v1", Kind: "Namespace", Name: "web"}
	cm := ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "settings"}
	svc := ObjMetadata{Version: "v1", Kind: "Service", Namespace: "web", Name: "web"}
	kept := ObjMetadata{Version: "v1", Kind: "Secret", Namespace: "web", Name: "kept"}

	var cs ChangeSet
	cs.Add(ns, Created, "")
	cs.Add(cm, Configured, "")
	var more ChangeSet
	more.Add(svc, Created, "")
	more.Add(kept, Skipped, "flotilla.io/prune: disabled")
	cs.Append(more)

	counts := map[Action]int{}
	for _, a := range []Action{Created, Configured, Unchanged, Recreated, Deleted, Skipped} {
		counts[a] = cs.Count(a)
	}
	wantCounts := map[Action]int{Created: 2, Configured: 1, Unchanged: 0, Recreated: 0, Deleted: 0, Skipped: 1}
	if diff := cmp.Diff(wantCounts, counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]ObjMetadata{ns, cm, svc}, cs.Objects(Created, Configured)); diff != "" {
		t.Errorf("Objects(Created, Configured), in change order (-want +got):\n%s", diff)
	}
	if got := cs.Objects(Deleted); got != nil {
		t.Errorf("Objects(Deleted) = %v, want nil", got)
	}
	if got := cs.Objects(); got != nil {
		t.Errorf("Objects() = %v, want nil", got)
	}
	if got := cs.Changes[3]; got.Reason != "flotilla.io/prune: disabled" {
		t.Errorf("the skipped change lost its reason: %+v", got)
	}
	if got := (ChangeSet{}).Count(Created); got != 0 {
		t.Errorf("empty Count = %d", got)
	}
}
