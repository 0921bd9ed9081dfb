package metrics

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/redact"
)

// query is a rendered check, ready to run.
type query struct {
	// origin says where the query comes from, for messages.
	origin   string
	promql   string
	provider v1alpha1.MetricProvider
	creds    credentials
	redactor *redact.Redactor
}

// credentials authenticate to the metrics server.
type credentials struct {
	username, password, token string
}

// resolve finds metric m's query (its MetricTemplate's or the router's
// built-in), renders it and reads the provider's credentials. The returned
// query always has a redactor, also with an error.
func (k *Checker) resolve(ctx context.Context, c *v1alpha1.Canary, m v1alpha1.CanaryMetric) (query, error) {
	q := query{redactor: emptyRedactor()}
	var tmpl string
	if m.TemplateRef != nil {
		mt, err := k.template(ctx, c, m.TemplateRef)
		if err != nil {
			return q, err
		}
		q.origin = "MetricTemplate " + mt.Namespace + "/" + mt.Name
		tmpl, q.provider = mt.Spec.Query, mt.Spec.Provider
		if q.creds, err = k.credentials(ctx, mt); err != nil {
			return q, err
		}
		q.redactor = redact.New(q.creds.username, q.creds.password, q.creds.token)
	} else {
		b, ok := LookupBuiltin(c.Spec.Provider, m.Name)
		if !ok {
			return q, fmt.Errorf("metric %q has no templateRef and is not a built-in check of the %s router (built-in: %v)",
				m.Name, routerOrDefault(c.Spec.Provider), BuiltinNames(c.Spec.Provider))
		}
		q.origin = "built-in " + m.Name
		tmpl = b.Query
		q.provider = v1alpha1.MetricProvider{Type: "prometheus", Address: c.Spec.MetricsServer}
		if c.Spec.MetricsServer == "" {
			return q, fmt.Errorf("%s: spec.metricsServer is empty: set the Prometheus address the built-in checks query", q.origin)
		}
	}
	promql, err := Render(tmpl, ModelOf(c, m))
	if err != nil {
		return q, fmt.Errorf("%s: %w", q.origin, err)
	}
	q.promql = promql
	return q, nil
}

// template fetches the MetricTemplate ref names, in the Canary's namespace
// unless ref says another.
func (k *Checker) template(ctx context.Context, c *v1alpha1.Canary, ref *v1alpha1.CrossNamespaceObjectReference) (*v1alpha1.MetricTemplate, error) {
	key := client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
	if key.Namespace == "" {
		key.Namespace = c.Namespace
	}
	if k.sameNamespace && key.Namespace != c.Namespace {
		return nil, fmt.Errorf("templateRef %s is in another namespace than the Canary's, which this agent refuses (no cross-namespace references)", key)
	}
	var mt v1alpha1.MetricTemplate
	if err := k.client.Get(ctx, key, &mt); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("MetricTemplate %s (templateRef) not found", key)
		}
		return nil, fmt.Errorf("reading MetricTemplate %s: %w", key, err)
	}
	return &mt, nil
}

// credentials reads the provider's Secret, in the MetricTemplate's
// namespace: username and password for basic authentication, or token for
// a bearer token.
func (k *Checker) credentials(ctx context.Context, mt *v1alpha1.MetricTemplate) (credentials, error) {
	ref := mt.Spec.Provider.SecretRef
	if ref == nil {
		return credentials{}, nil
	}
	key := client.ObjectKey{Namespace: mt.Namespace, Name: ref.Name}
	var s corev1.Secret
	if err := k.client.Get(ctx, key, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return credentials{}, fmt.Errorf("MetricTemplate %s/%s: Secret %s (provider.secretRef) not found", mt.Namespace, mt.Name, key)
		}
		return credentials{}, fmt.Errorf("MetricTemplate %s/%s: reading Secret %s: %w", mt.Namespace, mt.Name, key, err)
	}
	cr := credentials{username: string(s.Data["username"]), password: string(s.Data["password"]), token: string(s.Data["token"])}
	if cr.token == "" && (cr.username == "" || cr.password == "") {
		return credentials{}, fmt.Errorf("MetricTemplate %s/%s: Secret %s has neither the keys username and password nor token", mt.Namespace, mt.Name, key)
	}
	return cr, nil
}
