package controller_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// armoredSigningKey returns a new armored OpenPGP private key.
func armoredSigningKey(t *testing.T) []byte {
	t.Helper()
	entity, err := openpgp.NewEntity("Flotilla", "", "flotilla@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var priv bytes.Buffer
	wc, err := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := entity.SerializePrivate(wc, nil); err != nil {
		t.Fatal(err)
	}
	wc.Close()
	return priv.Bytes()
}

// waitUpdateFailed waits for Ready=False with reason, a message naming
// each of names, not Stalled (the update retries), and returns the message.
func waitUpdateFailed(t *testing.T, key client.ObjectKey, reason string, names ...string) string {
	t.Helper()
	u := &v1alpha1.ImageUpdate{}
	waitCondition(t, key, u, reason, func(c *metav1.Condition) error {
		if err := readyIs(metav1.ConditionFalse, reason)(c); err != nil {
			return err
		}
		for _, n := range names {
			if !strings.Contains(c.Message, n) {
				return fmt.Errorf("message %q does not name %s", c.Message, n)
			}
		}
		return nil
	})
	if s := findCondition(u.Status.Conditions, v1alpha1.StalledCondition); s != nil {
		t.Errorf("stalled %+v: a fixed Secret must recover the update without a spec change", s)
	}
	return readyOf(u.Status.Conditions).Message
}

// A signing key Secret without its key, or with a key that does not
// parse, fails the update with the Secret and key named; fixing the Secret
// alone makes it push, signed.
func TestImageUpdateRecoversWhenTheSigningKeySecretIsFixed(t *testing.T) {
	cases := []struct {
		name   string
		data   map[string][]byte
		reason string
		names  []string
		hidden string
	}{
		{name: "key missing", data: map[string][]byte{"other": []byte("never-shown-value")}, reason: v1alpha1.ReasonSecretNotFound,
			names: []string{"signing", "git.asc", "spec.git.commit.signingKey"}, hidden: "never-shown-value"},
		{name: "key unparsable", data: map[string][]byte{"git.asc": []byte("never-shown-armor")}, reason: v1alpha1.ReasonInvalidSpec,
			names: []string{"signing", "git.asc", "spec.git.commit.signingKey"}, hidden: "never-shown-armor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := newNamespace(t)
			r, seed := newAppsRepo(t, ns, map[string]string{"apps/a.yaml": markedDeployment(ns, "a", "registry.local/a:1.0.0")})
			createPolicy(t, ns, "a", nil)
			setLatest(t, ns, "a", "registry.local/a", "1.1.0")
			createSecret(t, ns, "signing", tc.data)
			key := createImageUpdate(t, ns, "signed", func(u *v1alpha1.ImageUpdate) {
				u.Spec.Interval = metav1.Duration{Duration: time.Second}
				u.Spec.Git.Commit.SigningKey = &v1alpha1.SigningKey{SecretRef: v1alpha1.LocalObjectReference{Name: "signing"}}
			})
			msg := waitUpdateFailed(t, key, tc.reason, tc.names...)
			if strings.Contains(msg, tc.hidden) {
				t.Errorf("message %q holds a Secret value", msg)
			}
			if got := r.remoteHead(t, "main"); got != seed {
				t.Fatalf("pushed %s without a usable signing key", got)
			}
			update(t, client.ObjectKey{Namespace: ns, Name: "signing"}, &corev1.Secret{}, func(s *corev1.Secret) {
				s.Data = map[string][]byte{"git.asc": armoredSigningKey(t)}
			})
			waitPushed(t, key, seed)
			r.remoteHead(t, "main")
			if out := r.wd.Git(t, "cat-file", "commit", "origin/main"); !strings.Contains(out, "gpgsig") {
				t.Errorf("the pushed commit is not signed:\n%s", out)
			}
		})
	}
}

func TestImageUpdatePullRequestTokenKeyMissing(t *testing.T) {
	ns := newNamespace(t)
	newAppsRepo(t, ns, map[string]string{"apps/a.yaml": markedDeployment(ns, "a", "registry.local/a:1.0.0")})
	createPolicy(t, ns, "a", nil)
	setLatest(t, ns, "a", "registry.local/a", "1.1.0")
	createSecret(t, ns, "forge", map[string][]byte{"password": []byte("never-shown-token")})
	key := createImageUpdate(t, ns, "pr", func(u *v1alpha1.ImageUpdate) {
		u.Spec.Git.Push = &v1alpha1.PushSpec{Branch: "updates", PullRequest: &v1alpha1.PullRequestSpec{
			Provider: "gitea", Address: "http://127.0.0.1:9", Repository: "org/fleet",
			SecretRef: v1alpha1.LocalObjectReference{Name: "forge"}}}
	})
	msg := waitUpdateFailed(t, key, v1alpha1.ReasonSecretNotFound, ns+"/forge", "token", "spec.git.push.pullRequest.secretRef")
	if strings.Contains(msg, "never-shown-token") {
		t.Errorf("message %q holds a Secret value", msg)
	}
}
