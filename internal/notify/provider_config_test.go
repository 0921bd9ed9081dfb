package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/notify"
)

// providerOf is a Provider of typ in ns, not created: LoadProviderConfig
// reads only its Secrets from the API server.
func providerOf(ns, typ string, mutate func(*v1alpha1.ProviderSpec)) *v1alpha1.Provider {
	p := &v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "chat"}, Spec: v1alpha1.ProviderSpec{Type: typ}}
	if mutate != nil {
		mutate(&p.Spec)
	}
	return p
}

func TestLoadProviderConfigReadsItsSecrets(t *testing.T) {
	ns := newNamespace(t)
	create(t,
		secret(ns, "webhook", map[string]string{"address": "https://hooks.example/services/" + testToken, "token": testToken}),
		secret(ns, "ca", map[string]string{"ca.crt": "-----BEGIN CERTIFICATE-----\n"}),
		secret(ns, "no-token", map[string]string{"address": "https://forge.example/org/repo"}),
	)
	ref := func(name string) *v1alpha1.LocalObjectReference { return &v1alpha1.LocalObjectReference{Name: name} }
	for _, tc := range []struct {
		name string
		p    *v1alpha1.Provider
		want notify.ProviderConfig
	}{
		{"the spec alone", providerOf(ns, "slack", func(s *v1alpha1.ProviderSpec) {
			s.Address, s.Channel, s.Username, s.Timeout = "https://hooks.example/a", "#ops", "flotilla", &metav1.Duration{Duration: 5 * time.Second}
		}), notify.ProviderConfig{Type: "slack", Address: "https://hooks.example/a", Channel: "#ops", Username: "flotilla", Timeout: 5 * time.Second}},
		{"the Secret's address wins over the spec's", providerOf(ns, "generic-hmac", func(s *v1alpha1.ProviderSpec) {
			s.Address, s.SecretRef = "https://spec.example/", ref("webhook")
		}), notify.ProviderConfig{Type: "generic-hmac", Address: "https://hooks.example/services/" + testToken, Token: testToken}},
		{"a CA from certSecretRef", providerOf(ns, "generic", func(s *v1alpha1.ProviderSpec) {
			s.Address, s.CertSecretRef = "https://hooks.example/b", ref("ca")
		}), notify.ProviderConfig{Type: "generic", Address: "https://hooks.example/b", CA: []byte("-----BEGIN CERTIFICATE-----\n")}},
		{"a chat webhook needs no token", providerOf(ns, "discord", func(s *v1alpha1.ProviderSpec) { s.SecretRef = ref("no-token") }),
			notify.ProviderConfig{Type: "discord", Address: "https://forge.example/org/repo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := notify.LoadProviderConfig(context.Background(), env.Client, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadProviderConfigErrorsNameTheSecretNotItsValues(t *testing.T) {
	ns := newNamespace(t)
	create(t, secret(ns, "no-token", map[string]string{"address": "https://forge.example/org/repo"}))
	ref := func(name string) *v1alpha1.LocalObjectReference { return &v1alpha1.LocalObjectReference{Name: name} }
	for _, tc := range []struct {
		name      string
		p         *v1alpha1.Provider
		want      string
		wantKey   string
		secretErr bool
	}{
		{"a missing secretRef", providerOf(ns, "slack", func(s *v1alpha1.ProviderSpec) { s.SecretRef = ref("absent") }),
			"secret " + ns + "/absent: not found: create it", "", true},
		{"a forge without a token", providerOf(ns, "github", func(s *v1alpha1.ProviderSpec) { s.SecretRef = ref("no-token") }),
			"secret " + ns + `/no-token has no "token" key: add it`, "token", true},
		{"a missing certSecretRef", providerOf(ns, "generic", func(s *v1alpha1.ProviderSpec) {
			s.Address, s.CertSecretRef = "https://hooks.example/", ref("absent-ca")
		}), "secret " + ns + "/absent-ca: not found: create it", "", true},
		{"no address anywhere", providerOf(ns, "slack", nil),
			"no address: set spec.address, or the address key of the Secret named by spec.secretRef", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := notify.LoadProviderConfig(context.Background(), env.Client, tc.p)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			var se *notify.SecretError
			if errors.As(err, &se) != tc.secretErr {
				t.Fatalf("err is a *SecretError: %v, want %v", !tc.secretErr, tc.secretErr)
			}
			if tc.secretErr && se.Key != tc.wantKey {
				t.Errorf("SecretError.Key = %q, want %q", se.Key, tc.wantKey)
			}
			if strings.Contains(err.Error(), "forge.example") {
				t.Errorf("the error quotes the Secret's address: %v", err)
			}
		})
	}
}

func TestReadSecret(t *testing.T) {
	ns := newNamespace(t)
	create(t, secret(ns, "hook", map[string]string{"token": testToken}))
	data, err := notify.ReadSecret(context.Background(), env.Client, types.NamespacedName{Namespace: ns, Name: "hook"})
	if err != nil || string(data["token"]) != testToken {
		t.Errorf("ReadSecret = %v, %v; want the token", data, err)
	}
	_, err = notify.ReadSecret(context.Background(), env.Client, types.NamespacedName{Namespace: ns, Name: "gone"})
	var se *notify.SecretError
	if !errors.As(err, &se) || se.Secret.Name != "gone" || se.Key != "" {
		t.Errorf("ReadSecret of a missing Secret = %v, want a *SecretError naming it", err)
	}
}
