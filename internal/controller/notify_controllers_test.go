package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// notifyFixture creates notification objects in one test namespace.
type notifyFixture struct {
	t  *testing.T
	ns string
}

func newNotifyFixture(t *testing.T) *notifyFixture {
	return &notifyFixture{t: t, ns: newNamespace(t)}
}

func (f *notifyFixture) create(obj client.Object) client.ObjectKey {
	f.t.Helper()
	obj.SetNamespace(f.ns)
	if err := env.Client.Create(context.Background(), obj); err != nil {
		f.t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
	return client.ObjectKeyFromObject(obj)
}

func (f *notifyFixture) secret(name string, data map[string]string) client.ObjectKey {
	f.t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: data}
	return f.create(s)
}

func (f *notifyFixture) receiver(name, secret string, mutate func(*v1alpha1.ReceiverSpec)) client.ObjectKey {
	f.t.Helper()
	spec := v1alpha1.ReceiverSpec{
		Type:      "generic-hmac",
		SecretRef: v1alpha1.LocalObjectReference{Name: secret},
		Resources: []v1alpha1.EventSourceReference{{Kind: "GitRepository", Name: "*"}},
	}
	if mutate != nil {
		mutate(&spec)
	}
	return f.create(&v1alpha1.Receiver{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec})
}

func (f *notifyFixture) provider(name string, suspend bool) client.ObjectKey {
	f.t.Helper()
	return f.create(&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ProviderSpec{Type: "generic", Address: "http://127.0.0.1:9/hook", Suspend: suspend}})
}

func (f *notifyFixture) alert(name, provider string) client.ObjectKey {
	f.t.Helper()
	return f.create(&v1alpha1.Alert{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.AlertSpec{
		ProviderRef:  v1alpha1.LocalObjectReference{Name: provider},
		EventSources: []v1alpha1.EventSourceReference{{Kind: "Stack", Name: "*"}},
	}})
}

// update reads obj at key, applies change and writes it back, retrying on conflicts.
func update[T client.Object](t *testing.T, key client.ObjectKey, obj T, change func(T)) {
	t.Helper()
	eventually(t, fmt.Sprintf("updating %s", key), func() error {
		if err := get(t, key, obj); err != nil {
			return err
		}
		change(obj)
		return env.Client.Update(context.Background(), obj)
	})
}

// waitReceiver waits until the Receiver has observed its generation, its
// Ready condition passes ready and its status.webhookPath passes path.
func waitReceiver(t *testing.T, key client.ObjectKey, what string, ready func(*metav1.Condition) error, path func(string) error) *v1alpha1.Receiver {
	t.Helper()
	rcv := &v1alpha1.Receiver{}
	eventually(t, fmt.Sprintf("Receiver %s: %s", key, what), func() error {
		if err := get(t, key, rcv); err != nil {
			return err
		}
		if rcv.Status.ObservedGeneration != rcv.Generation {
			return fmt.Errorf("observed generation %d of %d", rcv.Status.ObservedGeneration, rcv.Generation)
		}
		c := readyOf(rcv.Status.Conditions)
		if err := ready(&c); err != nil {
			return err
		}
		return path(rcv.Status.WebhookPath)
	})
	return rcv
}

func pathServed(p string) error {
	if !strings.HasPrefix(p, "/hook/") {
		return fmt.Errorf("webhookPath %q, want /hook/...", p)
	}
	return nil
}

func pathEmpty(p string) error {
	if p != "" {
		return fmt.Errorf("webhookPath %q, want empty: the path is not served", p)
	}
	return nil
}

func TestReceiverPublishesWebhookPath(t *testing.T) {
	f := newNotifyFixture(t)
	f.secret("token", map[string]string{"token": "s3cr3t-receiver-token"})
	key := f.receiver("hook", "token", nil)
	rcv := waitReceiver(t, key, "ready with a path", readyIs(metav1.ConditionTrue, v1alpha1.ReasonSucceeded), pathServed)
	if !strings.Contains(readyOf(rcv.Status.Conditions).Message, rcv.Status.WebhookPath) {
		t.Errorf("ready message %q does not name the path %s", readyOf(rcv.Status.Conditions).Message, rcv.Status.WebhookPath)
	}
	if strings.Contains(rcv.Status.WebhookPath, "s3cr3t") {
		t.Errorf("webhookPath %q holds the token", rcv.Status.WebhookPath)
	}
}

func TestReceiverNewTokenIsNewPath(t *testing.T) {
	f := newNotifyFixture(t)
	sk := f.secret("token", map[string]string{"token": "first-token"})
	key := f.receiver("hook", "token", nil)
	first := waitReceiver(t, key, "ready with a path", readyIs(metav1.ConditionTrue, ""), pathServed).Status.WebhookPath
	update(t, sk, &corev1.Secret{}, func(s *corev1.Secret) { s.Data = map[string][]byte{"token": []byte("second-token")} })
	waitReceiver(t, key, "a new path", readyIs(metav1.ConditionTrue, ""), func(p string) error {
		if err := pathServed(p); err != nil {
			return err
		}
		if p == first {
			return fmt.Errorf("webhookPath still %s after the token changed", p)
		}
		return nil
	})
}

// A Receiver that is not served must not show a path: a sender given it
// would get 404s.
func TestReceiverNotServedHasNoWebhookPath(t *testing.T) {
	cases := []struct {
		name   string
		change func(*v1alpha1.Receiver)
		ready  func(*metav1.Condition) error
	}{
		{
			name:   "suspended",
			change: func(r *v1alpha1.Receiver) { r.Spec.Suspend = true },
			ready:  func(*metav1.Condition) error { return nil },
		},
		{
			name:   "unknown resource kind",
			change: func(r *v1alpha1.Receiver) { r.Spec.Resources[0].Kind = "Deployment" },
			ready:  readyIs(metav1.ConditionFalse, v1alpha1.ReasonInvalidSpec),
		},
		{
			name:   "secret missing",
			change: func(r *v1alpha1.Receiver) { r.Spec.SecretRef.Name = "absent" },
			ready:  readyIs(metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newNotifyFixture(t)
			f.secret("token", map[string]string{"token": "a-token"})
			key := f.receiver("hook", "token", nil)
			waitReceiver(t, key, "ready with a path", readyIs(metav1.ConditionTrue, ""), pathServed)
			update(t, key, &v1alpha1.Receiver{}, tc.change)
			waitReceiver(t, key, tc.name+" without a path", tc.ready, pathEmpty)
		})
	}
}

func TestReceiverSecretWithoutTokenKeyRecovers(t *testing.T) {
	f := newNotifyFixture(t)
	sk := f.secret("token", map[string]string{"other": "value-never-shown"})
	key := f.receiver("hook", "token", nil)
	rcv := waitReceiver(t, key, "stalled on the token key", readyIs(metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound), pathEmpty)
	msg := readyOf(rcv.Status.Conditions).Message
	if !strings.Contains(msg, "token") || !strings.Contains(msg, sk.Name) {
		t.Errorf("message %q does not name the Secret and its missing key", msg)
	}
	if strings.Contains(msg, "value-never-shown") {
		t.Errorf("message %q holds a Secret value", msg)
	}
	update(t, sk, &corev1.Secret{}, func(s *corev1.Secret) { s.Data = map[string][]byte{"token": []byte("now-set")} })
	waitReceiver(t, key, "ready once the key is there", readyIs(metav1.ConditionTrue, ""), pathServed)
}

func TestAlertReadyNamesProvider(t *testing.T) {
	f := newNotifyFixture(t)
	f.provider("chat", false)
	key := f.alert("deploys", "chat")
	a := &v1alpha1.Alert{}
	waitCondition(t, key, a, "ready", readyIs(metav1.ConditionTrue, v1alpha1.ReasonSucceeded))
	if msg := readyOf(a.Status.Conditions).Message; !strings.Contains(msg, "chat") || !strings.Contains(msg, "info") {
		t.Errorf("ready message %q does not name the provider and severity", msg)
	}
}

func TestAlertWithoutProviderStallsUntilCreated(t *testing.T) {
	f := newNotifyFixture(t)
	key := f.alert("deploys", "later")
	a := &v1alpha1.Alert{}
	waitCondition(t, key, a, "provider not found", readyIs(metav1.ConditionFalse, v1alpha1.ReasonProviderNotFound))
	if msg := readyOf(a.Status.Conditions).Message; !strings.Contains(msg, "later") || !strings.Contains(msg, "spec.providerRef") {
		t.Errorf("message %q does not name the Provider and the field", msg)
	}
	f.provider("later", false)
	waitCondition(t, key, a, "ready once the provider exists", readyIs(metav1.ConditionTrue, ""))
}

// Events for a suspended Provider are dropped (as in Flux), so its Alerts
// are not Ready, and become Ready again when the Provider resumes.
func TestAlertOfSuspendedProviderIsNotReady(t *testing.T) {
	f := newNotifyFixture(t)
	pk := f.provider("chat", true)
	key := f.alert("deploys", "chat")
	a := &v1alpha1.Alert{}
	waitCondition(t, key, a, "not ready: provider suspended", readyIs(metav1.ConditionFalse, v1alpha1.ReasonSuspended))
	if msg := readyOf(a.Status.Conditions).Message; !strings.Contains(msg, "chat") || !strings.Contains(msg, "suspended") {
		t.Errorf("message %q does not say the Provider is suspended", msg)
	}
	if stalled := findCondition(a.Status.Conditions, v1alpha1.StalledCondition); stalled != nil {
		t.Errorf("stalled %+v: a suspended Provider is a choice, not a fault", stalled)
	}
	update(t, pk, &v1alpha1.Provider{}, func(p *v1alpha1.Provider) { p.Spec.Suspend = false })
	waitCondition(t, key, a, "ready once the provider resumes", readyIs(metav1.ConditionTrue, v1alpha1.ReasonSucceeded))
	update(t, pk, &v1alpha1.Provider{}, func(p *v1alpha1.Provider) { p.Spec.Suspend = true })
	waitCondition(t, key, a, "not ready once the provider is suspended again", readyIs(metav1.ConditionFalse, v1alpha1.ReasonSuspended))
}

func TestSuspendedAlertKeepsReadyAndClearsStalled(t *testing.T) {
	f := newNotifyFixture(t)
	key := f.alert("deploys", "missing")
	a := &v1alpha1.Alert{}
	waitCondition(t, key, a, "stalled", readyIs(metav1.ConditionFalse, v1alpha1.ReasonProviderNotFound))
	update(t, key, &v1alpha1.Alert{}, func(a *v1alpha1.Alert) { a.Spec.Suspend = true })
	eventually(t, "stalled cleared on suspend", func() error {
		if err := get(t, key, a); err != nil {
			return err
		}
		if a.Status.ObservedGeneration != a.Generation {
			return fmt.Errorf("observed %d of %d", a.Status.ObservedGeneration, a.Generation)
		}
		if c := findCondition(a.Status.Conditions, v1alpha1.StalledCondition); c != nil {
			return fmt.Errorf("stalled %+v", c)
		}
		return nil
	})
}

func findCondition(cs []metav1.Condition, typ string) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == typ {
			return &cs[i]
		}
	}
	return nil
}

// readyOf returns the Ready condition, or an empty one.
func readyOf(cs []metav1.Condition) metav1.Condition {
	if c := findCondition(cs, v1alpha1.ReadyCondition); c != nil {
		return *c
	}
	return metav1.Condition{}
}
