package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// A Receiver's row shows its whole webhook path, under PATH: it is what
// the sender needs.
func TestGetReceiversShowsTheWebhookPath(t *testing.T) {
	path := "/hook/" + strings.Repeat("ab", 32)
	rcv := &v1alpha1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Namespace: "flotilla-system", Name: "github-push", CreationTimestamp: metav1.NewTime(getNow().Add(-time.Hour))},
		Status: v1alpha1.ReceiverStatus{WebhookPath: path, Conditions: []metav1.Condition{
			{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSucceeded, Message: "receiving github webhooks at " + path},
		}},
	}
	kind, err := kindFor("receivers")
	if err != nil {
		t.Fatal(err)
	}
	e := getEntry("", kind, rcv)
	if e.Path != path || e.Ready != "True" {
		t.Fatalf("entry %+v, want the path and Ready True", e)
	}
	var out bytes.Buffer
	if err := printGetTable(&out, palette{}, []GetEntry{e}, getColumns{}, getNow()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.Contains(lines[0], "PATH") || strings.Contains(lines[0], "REVISION") {
		t.Errorf("header %q, want PATH instead of REVISION", lines[0])
	}
	if !strings.Contains(lines[1], path) {
		t.Errorf("row %q does not show the full path", lines[1])
	}
}

func TestNotifyKindsAreKnown(t *testing.T) {
	for word, want := range map[string]string{"provider": "Provider", "alerts": "Alert", "Receiver": "Receiver"} {
		k, err := kindFor(word)
		if err != nil || k.Kind != want {
			t.Errorf("kindFor(%q) = %v, %v; want %s", word, k.Kind, err, want)
		}
	}
}
