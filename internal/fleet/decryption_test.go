package fleet

import (
	"errors"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/decrypt"
)

func TestKeysAreThePlansOrNone(t *testing.T) {
	given, err := decrypt.ParseKeys(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := (&planner{o: Options{Decryption: given}}).keys(); got != given {
		t.Errorf("keys = %p, want the plan's %p", got, given)
	}
	none := (&planner{}).keys()
	if none == nil || !none.Empty() {
		t.Errorf("keys without Options.Decryption = %v, want an empty set: nil would skip decryption and apply ciphertext", none)
	}
}

func TestWithoutKeys(t *testing.T) {
	noKey := fmt.Errorf("rendering apps: secret.yaml: %w", &decrypt.KeyError{Err: decrypt.ErrNoMatchingKey})
	keys, _ := decrypt.ParseKeys(nil)
	for _, tc := range []struct {
		name    string
		keys    *decrypt.Keys
		err     error
		handled bool
	}{
		{"no key in the plan for an encrypted file: cannot plan", nil, noKey, true},
		{"the plan was given keys and none fits: the cluster would fail", keys, noKey, false},
		{"another render error is a failure", nil, errors.New("kustomization.yaml: unknown field"), false},
		{"no error", nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sd := side{stack: appsStack(), err: tc.err, objs: []*unstructured.Unstructured{obj(t, cmA)}}
			handled := (&planner{o: Options{Decryption: tc.keys}}).withoutKeys(&sd)
			if handled != tc.handled {
				t.Fatalf("withoutKeys = %v, want %v", handled, tc.handled)
			}
			if !handled {
				if sd.status != "" || len(sd.objs) != 1 {
					t.Errorf("an unhandled side was changed: status %q, %d objects", sd.status, len(sd.objs))
				}
				return
			}
			want := "its SOPS-encrypted files are decrypted with keys held in the cluster: give them with --decryption-keys"
			if sd.status != StackCannotPlan || sd.reason != want || sd.objs != nil {
				t.Errorf("status %q, reason %q, objects %v; want cannot-plan, %q, none", sd.status, sd.reason, sd.objs, want)
			}
		})
	}
}
