package controller_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/sopstest"
)

// Decryption of SOPS-encrypted Secrets (docs/secrets.md), against the real
// API server, with fixtures encrypted by the real sops command.

const sopsMarker = "sops-canary-Zq81-"

func encryptedSecret(t *testing.T, ns, name, value string, key sopstest.AgeKey) string {
	t.Helper()
	plain := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\nstringData:\n  password: %s\n", name, ns, value)
	return string(sopstest.Encrypt(t, "secret.yaml", []byte(plain), sopstest.Recipients{Age: []string{key.Recipient}, EncryptedRegex: "^(data|stringData)$"}))
}

func withDecryption(secret string) stackOption {
	return func(s *v1alpha1.Stack) {
		s.Spec.Decryption = &v1alpha1.Decryption{Provider: v1alpha1.DecryptionProviderSOPS, SecretRef: &v1alpha1.LocalObjectReference{Name: secret}}
	}
}

func secretValueIn(t *testing.T, ns, name, key string) string {
	t.Helper()
	s := &corev1.Secret{}
	if err := get(t, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		t.Fatal(err)
	}
	return string(s.Data[key])
}

// stackSurfaces are the places a Stack's messages reach: its status and
// the events of its namespace, through both APIs; coreEvents counts the
// core/v1 events.
func stackSurfaces(t *testing.T, ns string, key client.ObjectKey) (surfaces map[string]any, coreEvents int) {
	t.Helper()
	s := &v1alpha1.Stack{}
	if err := get(t, key, s); err != nil {
		t.Fatal(err)
	}
	var evs eventsv1.EventList
	var coreEvs corev1.EventList
	if err := env.Client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.List(context.Background(), &coreEvs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"status": s.Status, "events.k8s.io/v1 events": evs.Items, "core/v1 events": coreEvs.Items}, len(coreEvs.Items)
}

// assertNoMarker fails when a value (in clear or base64) appears in the
// Stack's status or in any event of the namespace.
func assertNoMarker(t *testing.T, ns string, key client.ObjectKey, values ...string) {
	t.Helper()
	surfaces, _ := stackSurfaces(t, ns, key)
	for what, v := range surfaces {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, value := range values {
			for _, form := range []string{value, base64.StdEncoding.EncodeToString([]byte(value)), base64.RawStdEncoding.EncodeToString([]byte(value))} {
				if strings.Contains(string(b), form) {
					t.Errorf("the decrypted value (%q) leaks into the %s", form, what)
				}
			}
		}
	}
}

func TestStackDecryptsSOPSSecretAndKeepsLastStateOnWrongKey(t *testing.T) {
	sopstest.Require(t)
	age, other := sopstest.NewAgeKey(t), sopstest.NewAgeKey(t)
	first, second := sopsMarker+"first", sopsMarker+"second"
	f, rev := scenario(t, func(ns string) map[string]string {
		return map[string]string{
			"app/secret.yaml": encryptedSecret(t, ns, "db", first, age),
			"app/cm.yaml":     configMap(ns, "settings", "v1"),
		}
	})
	createSecret(t, f.ns, "sops-keys", map[string][]byte{"identity.agekey": []byte(age.Identity)})
	key := createStack(t, f, "app", "app", withDecryption("sops-keys"))
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	if got := secretValueIn(t, f.ns, "db", "password"); got != first {
		t.Fatalf("the Secret was applied with %q, want its decrypted value", got)
	}

	// A revision encrypted for a key the Stack does not hold applies nothing.
	rev2 := f.update(t, map[string]string{
		"app/secret.yaml": encryptedSecret(t, f.ns, "db", second, other),
		"app/cm.yaml":     configMap(f.ns, "settings", "v2"),
	})
	requestReconcile(t, &v1alpha1.Stack{}, key)
	s := waitStackFailed(t, key, v1alpha1.ReasonDecryptionFailed, rev2)
	msg := stackReady(s).Message
	for _, want := range []string{"app/secret.yaml", "age " + other.Recipient, "nothing was applied"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
	if s.Status.LastAppliedRevision != rev {
		t.Errorf("lastAppliedRevision = %s, want the last good %s", s.Status.LastAppliedRevision, rev)
	}
	if cm, err := getConfigMap(t, f.ns, "settings"); err != nil || cm.Data["value"] != "v1" {
		t.Errorf("the ConfigMap of the failed revision was applied: %v %v", cm.Data, err)
	}
	if got := secretValueIn(t, f.ns, "db", "password"); got != first {
		t.Errorf("the Secret changed to %q after a failed decryption", got)
	}

	// Fixing the Secret's keys is enough: the failure is retried.
	patchSecret(t, f.ns, "sops-keys", map[string][]byte{"identity.agekey": []byte(age.Identity), "other.agekey": []byte(other.Identity)})
	requestReconcile(t, &v1alpha1.Stack{}, key)
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev2)
	if got := secretValueIn(t, f.ns, "db", "password"); got != second {
		t.Errorf("password = %q after the keys were fixed", got)
	}
	assertNoMarker(t, f.ns, key, first, second)
}

func patchSecret(t *testing.T, ns, name string, data map[string][]byte) {
	t.Helper()
	s := &corev1.Secret{}
	if err := get(t, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		t.Fatal(err)
	}
	s.Data = data
	if err := env.Client.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func TestStackWithoutDecryptionStallsOnEncryptedFile(t *testing.T) {
	sopstest.Require(t)
	age := sopstest.NewAgeKey(t)
	f, rev := scenario(t, func(ns string) map[string]string {
		return map[string]string{"app/secret.yaml": encryptedSecret(t, ns, "db", sopsMarker+"stall", age)}
	})
	key := createStack(t, f, "app", "app")
	s := waitStackFailed(t, key, v1alpha1.ReasonDecryptionFailed, rev)
	stalled := meta.FindStatusCondition(s.Status.Conditions, v1alpha1.StalledCondition)
	if stalled == nil || stalled.Status != metav1.ConditionTrue {
		t.Errorf("Stalled = %+v, want True: only a change to the Stack or the files can fix it", stalled)
	}
	for _, want := range []string{"app/secret.yaml", "spec.decryption"} {
		if !strings.Contains(stackReady(s).Message, want) {
			t.Errorf("message %q does not say %q", stackReady(s).Message, want)
		}
	}
	if err := get(t, client.ObjectKey{Namespace: f.ns, Name: "db"}, &corev1.Secret{}); err == nil {
		t.Error("the ciphertext was applied")
	}
	assertNoMarker(t, f.ns, key, sopsMarker+"stall")
}

func TestStackDecryptionSecretMissingIsRetried(t *testing.T) {
	sopstest.Require(t)
	age := sopstest.NewAgeKey(t)
	f, rev := scenario(t, func(ns string) map[string]string {
		return map[string]string{"app/secret.yaml": encryptedSecret(t, ns, "db", sopsMarker+"late", age)}
	})
	key := createStack(t, f, "app", "app", withDecryption("late-keys"))
	s := waitStackFailed(t, key, v1alpha1.ReasonDecryptionFailed, rev)
	if msg := stackReady(s).Message; !strings.Contains(msg, "late-keys") || !strings.Contains(msg, "not found") {
		t.Errorf("message %q should name the missing Secret", msg)
	}
	createSecret(t, f.ns, "late-keys", map[string][]byte{"age.agekey": []byte(age.Identity)})
	requestReconcile(t, &v1alpha1.Stack{}, key)
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	if got := secretValueIn(t, f.ns, "db", "password"); got != sopsMarker+"late" {
		t.Errorf("password = %q", got)
	}
}

// A Secret whose stringData holds a map or a number is refused by the API
// server, which quotes the value in its error: every value of every Secret
// in the render is masked in the message, whatever its type (#16, item 4).
func TestStackSecretValuesOfAnyTypeNeverLeak(t *testing.T) {
	marker := "leak-marker-" + rand.Text()[:12]
	pin := "7" + strconv.Itoa(100000+int(time.Now().UnixNano()%800000))
	f, rev := scenario(t, func(ns string) map[string]string {
		return map[string]string{"app/secret.yaml": fmt.Sprintf(
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: odd\n  namespace: %s\nstringData:\n  nested:\n    inner: %s\n  pin: %s\n", ns, marker, pin)}
	})
	key := createStack(t, f, "app", "app")
	s := waitStackFailed(t, key, v1alpha1.ReasonValidationFailed, rev)
	msg := stackReady(s).Message
	if !strings.Contains(msg, "Secret") || !strings.Contains(msg, "odd") {
		t.Errorf("the message must name the refused Secret: %q", msg)
	}
	surfaces, _ := stackSurfaces(t, f.ns, key)
	for what, v := range surfaces {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, form := range []string{marker, pin, base64.StdEncoding.EncodeToString([]byte(marker))} {
			if strings.Contains(string(b), form) {
				t.Errorf("a Secret value (%q) leaks into the %s: %s", form, what, b)
			}
		}
	}
}
