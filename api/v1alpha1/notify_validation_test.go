package v1alpha1_test

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

func providerCases() []admissionCase {
	secretRef := map[string]any{"name": "provider-secret"}
	return []admissionCase{
		{name: "slack with its URL in a Secret is accepted", spec: map[string]any{"type": "slack", "secretRef": secretRef}},
		{name: "generic with an address is accepted", spec: map[string]any{"type": "generic", "address": "https://hooks.example.com/x"}},
		{name: "github with repository and token is accepted", spec: map[string]any{"type": "github", "address": "https://github.com/org/fleet", "secretRef": secretRef}},
		{name: "unknown type", spec: map[string]any{"type": "pagerduty", "address": "https://x.example.com"}, wantErr: []string{"spec.type", "Unsupported value"}},
		{name: "neither address nor secret", spec: map[string]any{"type": "slack"}, wantErr: []string{"set address, or a secretRef"}},
		{name: "generic-hmac without a key", spec: map[string]any{"type": "generic-hmac", "address": "https://x.example.com"}, wantErr: []string{"needs a secretRef with a token key"}},
		{name: "gitlab without a repository", spec: map[string]any{"type": "gitlab", "secretRef": secretRef}, wantErr: []string{"needs address"}},
		{name: "address that is not http", spec: map[string]any{"type": "generic", "address": "ftp://x.example.com"}, wantErr: []string{"spec.address"}},
	}
}

func alertCases() []admissionCase {
	alert := func(extra map[string]any) map[string]any {
		base := map[string]any{"providerRef": map[string]any{"name": "slack"}, "eventSources": []any{map[string]any{"kind": "Stack", "name": "*"}}}
		for k, v := range extra {
			base[k] = v
		}
		return base
	}
	return []admissionCase{
		{
			name: "severity defaults to info", spec: alert(nil),
			check: func(t *testing.T, stored *unstructured.Unstructured) {
				if got, _, _ := unstructured.NestedString(stored.Object, "spec", "eventSeverity"); got != "info" {
					t.Errorf("stored eventSeverity %q, want the default info", got)
				}
			},
		},
		{name: "groupBy and threshold are accepted", spec: alert(map[string]any{"groupBy": []any{"revision"}, "threshold": map[string]any{"count": int64(3), "window": "10m"}})},
		{name: "no event sources", spec: alert(map[string]any{"eventSources": []any{}}), wantErr: []string{"spec.eventSources"}},
		{name: "unknown severity", spec: alert(map[string]any{"eventSeverity": "warning"}), wantErr: []string{"spec.eventSeverity"}},
		{name: "unknown groupBy field", spec: alert(map[string]any{"groupBy": []any{"cluster"}}), wantErr: []string{"spec.groupBy[0]"}},
		{name: "threshold of zero", spec: alert(map[string]any{"threshold": map[string]any{"count": int64(0), "window": "1m"}}), wantErr: []string{"spec.threshold.count"}},
		{
			name: "matchLabels with a name", spec: alert(map[string]any{"eventSources": []any{map[string]any{"kind": "Stack", "name": "apps", "matchLabels": map[string]any{"a": "b"}}}}),
			wantErr: []string{"set name to '*'"},
		},
	}
}

func receiverCases() []admissionCase {
	receiver := func(extra map[string]any) map[string]any {
		base := map[string]any{"type": "github", "secretRef": map[string]any{"name": "token"}, "resources": []any{map[string]any{"kind": "GitRepository", "name": "fleet"}}}
		for k, v := range extra {
			base[k] = v
		}
		return base
	}
	return []admissionCase{
		{name: "github is accepted", spec: receiver(nil)},
		{name: "generic when explicitly allowed", spec: receiver(map[string]any{"type": "generic", "insecureAllowUnauthenticated": true})},
		{name: "generic without the allowance", spec: receiver(map[string]any{"type": "generic"}), wantErr: []string{"verifies nothing", "insecureAllowUnauthenticated"}},
		{name: "allowSHA1 on gitlab", spec: receiver(map[string]any{"type": "gitlab", "allowSHA1": true}), wantErr: []string{"allowSHA1 applies to github and generic-hmac only"}},
		{name: "no resources", spec: receiver(map[string]any{"resources": []any{}}), wantErr: []string{"spec.resources"}},
		{name: "bitbucket", spec: receiver(map[string]any{"type": "bitbucket"}), wantErr: []string{"spec.type"}},
	}
}

func TestNotifyAdmission(t *testing.T) {
	controlplane.Require(t, env)
	ns := newNamespace(t, "notify-validation-")
	for _, group := range []struct {
		kind  string
		cases []admissionCase
	}{
		{v1alpha1.ProviderKind, providerCases()},
		{v1alpha1.AlertKind, alertCases()},
		{v1alpha1.ReceiverKind, receiverCases()},
	} {
		for i, tc := range group.cases {
			t.Run(group.kind+"/"+tc.name, func(t *testing.T) {
				obj := newObject(group.kind, ns, fmt.Sprintf("%s-%02d", strings.ToLower(group.kind), i), tc.spec)
				runAdmissionCase(t, obj, tc)
			})
		}
	}
}
