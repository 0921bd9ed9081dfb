package faults

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
	"github.com/flotilla-io/flotilla/test/faultproxy"
)

func configMap(name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  value: %q\n", name, value)
}

// kept are the ConfigMaps both revisions hold; added come with the second,
// which also changes kept[0] and drops "old".
var (
	kept  = []string{"cm-0", "cm-1", "cm-2", "cm-3", "cm-4"}
	added = []string{"cm-5", "cm-6", "cm-7", "cm-8", "cm-9"}
)

func firstRevision() map[string]string {
	files := map[string]string{"app/old.yaml": configMap("old", "1")}
	for _, n := range kept {
		files["app/"+n+".yaml"] = configMap(n, "1")
	}
	return files
}

func secondRevision() map[string]string {
	files := map[string]string{"app/old.yaml": "", "app/cm-0.yaml": configMap("cm-0", "2")}
	for _, n := range added {
		files["app/"+n+".yaml"] = configMap(n, "2")
	}
	return files
}

// TestStackApplyMeetsAPIServerFaults applies a revision that changes one
// object, adds five and removes one, while the API server fails between
// the stages of the apply (the inventory write, the dry-run, the prune) or
// in the middle of one (after some of the objects were written). In the
// failing pass nothing is pruned, every object written is in the inventory,
// and Ready says what failed; once the fault is lifted the next pass
// converges, creating no object twice and leaving nothing orphaned.
func TestStackApplyMeetsAPIServerFaults(t *testing.T) {
	cases := []struct {
		name string
		// rule is the fault, for the Stack's namespace ns.
		rule func(ns string) faultproxy.Rule
		// timeout is the Stack's apply timeout (a stall ends there).
		timeout time.Duration
		// reason and message are what Ready says while the fault holds.
		reason, message string
		// writesNone: the pass wrote none of the second revision.
		writesNone bool
	}{{
		name: "the inventory write before the apply answers 503",
		rule: func(ns string) faultproxy.Rule {
			return faultproxy.Rule{Match: faultproxy.All(faultproxy.InNamespace(ns), faultproxy.Method(http.MethodPatch),
				faultproxy.PathSuffix("/stacks/app/status"), faultproxy.BodyContains(`"inventory"`)), Fault: faultproxy.Unavailable}
		},
		reason:     v1alpha1.ReasonApplyFailed,
		message:    "recording the objects about to be applied in the inventory failed, nothing was applied",
		writesNone: true,
	}, {
		name: "every dry-run answers 503",
		rule: func(ns string) faultproxy.Rule {
			return faultproxy.Rule{Match: faultproxy.All(faultproxy.InNamespace(ns), faultproxy.DryRun), Fault: faultproxy.Unavailable}
		},
		reason:     v1alpha1.ReasonAPIServerUnavailable,
		message:    "the API server could not answer the server-side dry-run of 10 object(s), it is retried, nothing was applied: ",
		writesNone: true,
	}, {
		name: "the apply answers 503 after two objects were written",
		rule: func(ns string) faultproxy.Rule {
			return faultproxy.Rule{Match: faultproxy.All(faultproxy.InNamespace(ns), faultproxy.ServerSideApply), Skip: 2, Fault: faultproxy.Unavailable}
		},
		reason:  v1alpha1.ReasonApplyFailed,
		message: "the API server is unavailable",
	}, {
		name: "the connection resets before the request reaches the API server, after two objects were written",
		rule: func(ns string) faultproxy.Rule {
			return faultproxy.Rule{Match: faultproxy.All(faultproxy.InNamespace(ns), faultproxy.ServerSideApply), Skip: 2, Fault: faultproxy.Reset}
		},
		reason:  v1alpha1.ReasonApplyFailed,
		message: ": connection to the API server lost: EOF",
	}, {
		name: "the connection resets after the API server wrote the object, from the third on",
		rule: func(ns string) faultproxy.Rule {
			return faultproxy.Rule{Match: faultproxy.All(faultproxy.InNamespace(ns), faultproxy.ServerSideApply), Skip: 2, Fault: faultproxy.ResetAfterForward}
		},
		reason:  v1alpha1.ReasonApplyFailed,
		message: ": connection to the API server lost: EOF",
	}, {
		name: "the third write stalls until the Stack's timeout",
		rule: func(ns string) faultproxy.Rule {
			return faultproxy.Rule{Match: faultproxy.All(faultproxy.InNamespace(ns), faultproxy.ServerSideApply), Skip: 2, Fault: faultproxy.Stall}
		},
		timeout: 4 * time.Second,
		reason:  v1alpha1.ReasonApplyFailed,
		message: "context deadline exceeded",
	}, {
		name: "the prune's delete answers 503 after the apply",
		rule: func(ns string) faultproxy.Rule {
			return faultproxy.Rule{Match: faultproxy.All(faultproxy.InNamespace(ns), faultproxy.Method(http.MethodDelete)), Fault: faultproxy.Unavailable}
		},
		reason:  v1alpha1.ReasonPruneFailed,
		message: "the API server is unavailable",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, rev1 := newFleet(t, firstRevision())
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 30 * time.Second
			}
			key := f.createStack(t, timeout)
			readyAt(t, key, rev1)
			before := uids(t, f.ns)

			rule := tc.rule(f.ns)
			rule.Name = "fault"
			proxy.Set(rule)
			t.Cleanup(func() { proxy.Set() })
			rev2 := f.update(t, secondRevision())

			failing := waitStack(t, key, "failing at "+rev2, func(s *v1alpha1.Stack, c *metav1.Condition) error {
				if c.Status != metav1.ConditionFalse || s.Status.LastAttemptedRevision != rev2 {
					return fmt.Errorf("ready %s %s: %s (attempted %s)", c.Status, c.Reason, c.Message, s.Status.LastAttemptedRevision)
				}
				return nil
			})
			ready := readyCondition(failing)
			t.Logf("Ready during the fault: %s: %s", ready.Reason, ready.Message)
			if tc.reason != "" && ready.Reason != tc.reason {
				t.Errorf("Ready reason = %s, want %s (%s)", ready.Reason, tc.reason, ready.Message)
			}
			if !strings.Contains(ready.Message, tc.message) {
				t.Errorf("Ready message = %q, want it to say %q", ready.Message, tc.message)
			}
			if proxy.Faulted("fault") == 0 {
				t.Fatal("the fault never happened")
			}
			if failing.Status.LastAppliedRevision != rev1 {
				t.Errorf("lastAppliedRevision = %s during the fault, want %s", failing.Status.LastAppliedRevision, rev1)
			}
			// No prune in a failing pass; nothing written outside the inventory.
			during := uids(t, f.ns)
			if during["old"] != before["old"] {
				t.Errorf("ConfigMap old was pruned (or recreated) in the failing pass: uid %q, was %q", during["old"], before["old"])
			}
			assertInInventory(t, failing, during)
			if tc.writesNone {
				for _, n := range added {
					if _, ok := during[n]; ok {
						t.Errorf("ConfigMap %s was created though the pass must write nothing", n)
					}
				}
			}

			proxy.Set()
			done := readyAt(t, key, rev2)
			after := uids(t, f.ns)
			want := append(slices.Clone(kept), added...)
			slices.Sort(want)
			if got := slices.Sorted(maps.Keys(after)); !slices.Equal(got, want) {
				t.Errorf("ConfigMaps after convergence = %v, want %v", got, want)
			}
			if got := inventoryNames(done); !slices.Equal(got, want) {
				t.Errorf("inventory after convergence = %v, want %v", got, want)
			}
			for n, uid := range during {
				if after[n] != "" && after[n] != uid {
					t.Errorf("ConfigMap %s was created again: uid %s, was %s", n, after[n], uid)
				}
			}
			assertCreatedOnce(t, f.ns)
		})
	}
}

func readyCondition(s *v1alpha1.Stack) metav1.Condition {
	for _, c := range s.Status.Conditions {
		if c.Type == v1alpha1.ReadyCondition {
			return c
		}
	}
	return metav1.Condition{}
}

// uids returns the UID of each ConfigMap Stack "app" owns in ns, by name.
func uids(t *testing.T, ns string) map[string]types.UID {
	t.Helper()
	out, err := controlplane.OwnedConfigMaps(context.Background(), env.Client, ns, "app")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func inventoryNames(s *v1alpha1.Stack) []string { return controlplane.InventoryNames(s, "ConfigMap") }

// assertInInventory fails for an owned object the Stack's inventory does
// not list: an orphan.
func assertInInventory(t *testing.T, s *v1alpha1.Stack, live map[string]types.UID) {
	t.Helper()
	inv := inventoryNames(s)
	for n := range live {
		if !slices.Contains(inv, n) {
			t.Errorf("ConfigMap %s exists but the inventory %v does not list it: it would be orphaned", n, inv)
		}
	}
}

// assertCreatedOnce fails when the API server answered 201 Created twice
// for one object of ns.
func assertCreatedOnce(t *testing.T, ns string) {
	t.Helper()
	created := map[string]int{}
	for _, rec := range proxy.Records() {
		if faultproxy.Created(rec) && !strings.Contains(rec.Query, "dryRun") && strings.Contains(rec.Path, "/namespaces/"+ns+"/configmaps/") {
			created[rec.Path]++
		}
	}
	for p, n := range created {
		if n > 1 {
			t.Errorf("%s was created %d times", p, n)
		}
	}
	if len(created) == 0 {
		t.Error("the proxy saw no create: the counting is broken")
	}
}
