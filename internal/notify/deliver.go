package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/metrics"
	"github.com/flotilla-io/flotilla/internal/redact"
)

// errProviderSuspended drops a message without counting it as failed.
var errProviderSuspended = errors.New("provider suspended")

// deliver sends one message with retries and records the outcome in the
// Alert's status and the metrics.
func (e *Engine) deliver(ctx context.Context, d delivery) {
	var alert v1alpha1.Alert
	if err := e.client.Get(ctx, d.alert, &alert); err != nil {
		return // deleted meanwhile
	}
	n, err := e.notifier(ctx, &alert)
	if errors.Is(err, errProviderSuspended) {
		e.opts.Metrics.Delivery(d.alert.Namespace, d.alert.Name, metrics.DeliveryDropped)
		e.delivered(ctx, d)
		return
	}
	attempts := 0
	for err == nil && attempts < e.opts.Attempts {
		attempts++
		if err = n.Post(ctx, d.msg); err == nil {
			break
		}
		if attempts < e.opts.Attempts {
			if !sleep(ctx, e.backoff(attempts)) {
				return // stopping: the message stays pending for the next leader
			}
			err = nil
		}
	}
	e.record(ctx, &alert, attempts, err)
	e.delivered(ctx, d)
}

// backoff is the wait after attempt n (1-based): Backoff doubled n-1
// times, at most MaxBackoff.
func (e *Engine) backoff(n int) time.Duration {
	d := e.opts.Backoff
	for i := 1; i < n && d < e.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, e.opts.MaxBackoff)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// record writes the delivery's outcome to the Alert's status and metrics.
func (e *Engine) record(ctx context.Context, alert *v1alpha1.Alert, attempts int, err error) {
	key := client.ObjectKeyFromObject(alert)
	before := &v1alpha1.Alert{ObjectMeta: alert.ObjectMeta}
	before.Status.FailedDeliveries = alert.Status.FailedDeliveries
	after := before.DeepCopy()
	after.Status.LastDelivery = &v1alpha1.DeliveryStatus{Time: metav1.Now(), Succeeded: err == nil, Attempts: int32(attempts)}
	if err != nil {
		after.Status.LastDelivery.Error = err.Error()
		after.Status.FailedDeliveries++
		e.opts.Log.Info("message not delivered", "alert", key.String(), "attempts", attempts, "error", err.Error())
		e.opts.Metrics.Delivery(key.Namespace, key.Name, metrics.DeliveryFailed)
	} else {
		e.opts.Metrics.Delivery(key.Namespace, key.Name, metrics.DeliverySucceeded)
	}
	if perr := e.client.Status().Patch(ctx, after, client.MergeFrom(before)); perr != nil {
		e.opts.Log.Error(perr, "recording the delivery in the Alert's status", "alert", key.String())
	}
}

// notifier builds the Notifier of the Alert's Provider.
func (e *Engine) notifier(ctx context.Context, alert *v1alpha1.Alert) (Notifier, error) {
	var p v1alpha1.Provider
	key := types.NamespacedName{Namespace: alert.Namespace, Name: alert.Spec.ProviderRef.Name}
	if err := e.client.Get(ctx, key, &p); err != nil {
		return nil, fmt.Errorf("provider %s: %w", key, err)
	}
	if p.Spec.Suspend {
		return nil, errProviderSuspended
	}
	cfg, err := LoadProviderConfig(ctx, e.client, &p)
	if err != nil {
		return nil, err
	}
	return NewNotifier(cfg)
}

// SecretError is a Secret a Provider or Receiver names that is missing or
// lacks a key. It names the Secret and key, never a value.
type SecretError struct {
	Secret types.NamespacedName
	Key    string
	Err    error
}

func (e *SecretError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("secret %s has no %q key: add it", e.Secret, e.Key)
	}
	return fmt.Sprintf("secret %s: %v", e.Secret, e.Err)
}

func (e *SecretError) Unwrap() error { return e.Err }

// LoadProviderConfig reads the Provider's Secrets: address and token from
// secretRef, ca.crt from certSecretRef.
func LoadProviderConfig(ctx context.Context, c client.Reader, p *v1alpha1.Provider) (ProviderConfig, error) {
	cfg := ProviderConfig{Type: p.Spec.Type, Address: p.Spec.Address, Channel: p.Spec.Channel, Username: p.Spec.Username}
	if p.Spec.Timeout != nil {
		cfg.Timeout = p.Spec.Timeout.Duration
	}
	if ref := p.Spec.SecretRef; ref != nil {
		data, err := ReadSecret(ctx, c, types.NamespacedName{Namespace: p.Namespace, Name: ref.Name})
		if err != nil {
			return cfg, err
		}
		if a := string(data["address"]); a != "" {
			cfg.Address = a
		}
		cfg.Token = string(data["token"])
		if cfg.Token == "" && p.Spec.Type != v1alpha1.ProviderGeneric && p.Spec.Type != v1alpha1.ProviderSlack &&
			p.Spec.Type != v1alpha1.ProviderMSTeams && p.Spec.Type != v1alpha1.ProviderDiscord {
			return cfg, &SecretError{Secret: types.NamespacedName{Namespace: p.Namespace, Name: ref.Name}, Key: "token"}
		}
	}
	if cfg.Address == "" {
		return cfg, errors.New("no address: set spec.address, or the address key of the Secret named by spec.secretRef")
	}
	if ref := p.Spec.CertSecretRef; ref != nil {
		data, err := ReadSecret(ctx, c, types.NamespacedName{Namespace: p.Namespace, Name: ref.Name})
		if err != nil {
			return cfg, err
		}
		cfg.CA = data["ca.crt"]
	}
	return cfg, nil
}

// ReadSecret returns a Secret's data; a missing Secret is a *SecretError.
func ReadSecret(ctx context.Context, c client.Reader, key types.NamespacedName) (map[string][]byte, error) {
	var s corev1.Secret
	if err := c.Get(ctx, key, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &SecretError{Secret: key, Err: errors.New("not found: create it")}
		}
		return nil, &SecretError{Secret: key, Err: errors.New(redact.New().Error(err))}
	}
	return s.Data, nil
}
