package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/notify"
)

// postReceive is a real post-receive hook: for every pushed ref it signs
// a GitHub-style push payload with openssl and posts it with curl.
const postReceive = `#!/bin/sh
while read old new ref; do
  body="{\"ref\":\"$ref\",\"before\":\"$old\",\"after\":\"$new\"}"
  sig=$(printf '%%s' "$body" | openssl dgst -sha256 -hmac '%s' | sed 's/^.* //')
  curl --noproxy '*' -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: push' -H "X-Hub-Signature-256: sha256=$sig" --data-binary "$body" '%s'
done
`

func receiver(ns, typ string, resources ...v1alpha1.EventSourceReference) *v1alpha1.Receiver {
	return &v1alpha1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "push"},
		Spec: v1alpha1.ReceiverSpec{
			Type: typ, SecretRef: v1alpha1.LocalObjectReference{Name: "hook"},
			Events: []string{"push"}, Resources: resources,
		},
	}
}

// A push to the real Git server runs its post-receive hook, which posts a
// signed payload to the Receiver; the GitRepository, polled only hourly,
// fetches the new revision because of it.
func TestPushHookMakesTheSourceFetchAtOnce(t *testing.T) {
	ns := newNamespace(t)
	repo := newFleetRepo(t)
	first := repo.push(t, configMapApp(ns, "one"))
	const token = "hook-secret-for-tests"
	rcv := receiver(ns, "github", v1alpha1.EventSourceReference{Kind: "GitRepository", Name: "fleet"})
	src := gitRepository(ns, repo.root.FileURL("fleet"), time.Hour)
	create(t, secret(ns, "hook", map[string]string{"token": token}), rcv, src)
	path := notify.WebhookPath(token, rcv.Name, ns)
	waitReady(t, rcv, func() error {
		if rcv.Status.WebhookPath != path {
			return fmt.Errorf("webhookPath %q, want %q", rcv.Status.WebhookPath, path)
		}
		return readyCondition(rcv.Status.Conditions)
	})
	waitReady(t, src, func() error { return artifactAt(src, first) })

	repo.root.SetHook(t, "fleet", "post-receive", fmt.Sprintf(postReceive, token, webhookURL(t)+path))
	second := repo.push(t, configMapApp(ns, "two"))
	waitReady(t, src, func() error { return artifactAt(src, second) })
	if src.Status.LastHandledReconcileAt == "" {
		t.Error("the fetch was not one the webhook asked for: lastHandledReconcileAt is empty")
	}
}

func artifactAt(src *v1alpha1.GitRepository, rev string) error {
	if src.Status.Artifact == nil || src.Status.Artifact.Revision != rev {
		return fmt.Errorf("artifact %+v, want %s", src.Status.Artifact, rev)
	}
	return nil
}

// Requests with a bad signature are refused and reconcile nothing; a body
// over 3 MiB gets 413; a Stack selected by labels is reconciled by a good one.
func TestReceiverRefusesBadRequestsAndReconcilesOnGoodOnes(t *testing.T) {
	ns := newNamespace(t)
	const token = "another-hook-secret"
	rcv := receiver(ns, "generic-hmac", v1alpha1.EventSourceReference{Kind: "Stack", Name: "*", MatchLabels: map[string]string{"team": "web"}})
	rcv.Spec.Events = nil
	web, other := stack(ns), stack(ns)
	web.Name, web.Labels, web.Spec.Suspend = "web", map[string]string{"team": "web"}, true
	other.Name, other.Spec.Suspend = "other", true
	create(t, secret(ns, "hook", map[string]string{"token": token}), rcv, web, other)
	waitReady(t, rcv, func() error { return readyCondition(rcv.Status.Conditions) })
	url := webhookURL(t) + rcv.Status.WebhookPath

	body := []byte(`{"ref":"refs/heads/main"}`)
	for _, sig := range []string{"", "sha256=" + notify.Sign([]byte("guess"), body), "sha1=" + notify.Sign([]byte(token), body)} {
		if code := postWith(t, url, body, map[string]string{"X-Signature": sig}); code != http.StatusUnauthorized {
			t.Errorf("signature %q: status %d, want 401", sig, code)
		}
	}
	big := bytes.Repeat([]byte(" "), notify.MaxBodyBytes+1)
	if code := postWith(t, url, big, map[string]string{"X-Signature": "sha256=" + notify.Sign([]byte(token), big)}); code != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: status %d, want 413", code)
	}
	time.Sleep(500 * time.Millisecond)
	for _, s := range []*v1alpha1.Stack{web, other} {
		if requested(t, s) {
			t.Errorf("Stack %s got a reconcile request from a refused webhook", s.Name)
		}
	}

	if code := postWith(t, url, body, map[string]string{"X-Signature": "sha256=" + notify.Sign([]byte(token), body)}); code != http.StatusAccepted {
		t.Fatalf("signed request: status %d, want 202", code)
	}
	eventually(t, "a reconcile request on the labelled Stack", func() error {
		if !requested(t, web) {
			return fmt.Errorf("no annotation on %s", web.Name)
		}
		return nil
	})
	if requested(t, other) {
		t.Error("the Stack without the label was reconciled too")
	}
}

func postWith(t *testing.T, url string, body []byte, headers map[string]string) int {
	t.Helper()
	return post(t, url, bytes.NewReader(body), headers)
}

func requested(t *testing.T, s *v1alpha1.Stack) bool {
	t.Helper()
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(s), s); err != nil {
		t.Fatal(err)
	}
	return s.Annotations[v1alpha1.ReconcileRequestAnnotation] != ""
}
