package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/image/registry"
	"github.com/flotilla-io/flotilla/internal/redact"
)

// Keys of the Secret an ImageRepository's spec.certSecretRef names.
const (
	caCertKey     = "ca.crt"
	clientCertKey = "tls.crt"
	clientKeyKey  = "tls.key"
)

// errInvalidImageSecret is a Secret that cannot work as the spec uses it.
var errInvalidImageSecret = errors.New("invalid secret")

// NewRegistryFunc returns a TagLister for an image with options; tests and
// the benchmark can swap it, the agent uses registry.New.
type NewRegistryFunc func(image string, opts ...registry.Option) (registry.TagLister, error)

func newRegistryClient(image string, opts ...registry.Option) (registry.TagLister, error) {
	return registry.New(image, opts...)
}

// registryAccess reads the credentials and certificates obj names and
// returns a client for its image, with a redactor that masks every secret
// value read.
func registryAccess(ctx context.Context, c client.Reader, obj *v1alpha1.ImageRepository, newClient NewRegistryFunc) (registry.TagLister, *redact.Redactor, error) {
	red := redact.New()
	auths, err := imageAuths(ctx, c, obj)
	if err != nil {
		return nil, red, err
	}
	red.Add(auths.Secrets()...)
	opts := []registry.Option{registry.WithAuths(auths), registry.WithInsecure(obj.Spec.Insecure)}
	certOpts, err := imageCertificates(ctx, c, obj, red)
	if err != nil {
		return nil, red, err
	}
	if newClient == nil {
		newClient = newRegistryClient
	}
	cl, err := newClient(obj.Spec.Image, append(opts, certOpts...)...)
	if errors.Is(err, registry.ErrInvalidImage) {
		err = fmt.Errorf("spec.image: %w", err)
	}
	return cl, red, err
}

// imageAuths gathers credentials from spec.secretRef, then from the
// imagePullSecrets of spec.serviceAccountName. A pull secret the service
// account names but that does not exist is skipped, as the kubelet does.
func imageAuths(ctx context.Context, c client.Reader, obj *v1alpha1.ImageRepository) (*registry.Auths, error) {
	auths := &registry.Auths{}
	if ref := obj.Spec.SecretRef; ref != nil {
		if err := addDockerConfig(ctx, c, auths, obj.Namespace, ref.Name, "spec.secretRef"); err != nil {
			return nil, err
		}
	}
	if obj.Spec.ServiceAccountName == "" {
		return auths, nil
	}
	var sa corev1.ServiceAccount
	key := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Spec.ServiceAccountName}
	if err := c.Get(ctx, key, &sa); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &secretError{kind: "ServiceAccount", name: key.String(), field: "spec.serviceAccountName"}
		}
		return nil, fmt.Errorf("reading ServiceAccount %s: %w", key, err)
	}
	for _, ps := range sa.ImagePullSecrets {
		if err := addDockerConfig(ctx, c, auths, obj.Namespace, ps.Name, ""); err != nil {
			return nil, err
		}
	}
	return auths, nil
}

// addDockerConfig adds the .dockerconfigjson of Secret ns/name. field is
// the spec field that names the Secret, and a missing Secret is an error;
// an empty field is a pull secret of the service account, skipped when
// missing.
func addDockerConfig(ctx context.Context, c client.Reader, auths *registry.Auths, ns, name, field string) error {
	required := field != ""
	if !required {
		field = "imagePullSecrets of spec.serviceAccountName"
	}
	var s corev1.Secret
	key := types.NamespacedName{Namespace: ns, Name: name}
	if err := c.Get(ctx, key, &s); err != nil {
		switch {
		case apierrors.IsNotFound(err) && required:
			return &secretError{name: key.String(), field: field}
		case apierrors.IsNotFound(err):
			return nil
		}
		return fmt.Errorf("reading secret %s: %w", key, err)
	}
	data, ok := s.Data[registry.DockerConfigKey]
	if !ok {
		return fmt.Errorf("%w: Secret %s (%s) has no key %s: create it with `kubectl create secret docker-registry`", errInvalidImageSecret, key, field, registry.DockerConfigKey)
	}
	if err := auths.Add("Secret "+key.String(), data); err != nil {
		return fmt.Errorf("%w: %s: %w", errInvalidImageSecret, field, err)
	}
	return nil
}

// imageCertificates reads spec.certSecretRef: ca.crt, and tls.crt with
// tls.key for a client certificate.
func imageCertificates(ctx context.Context, c client.Reader, obj *v1alpha1.ImageRepository, red *redact.Redactor) ([]registry.Option, error) {
	ref := obj.Spec.CertSecretRef
	if ref == nil {
		return nil, nil
	}
	var s corev1.Secret
	key := types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}
	if err := c.Get(ctx, key, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &secretError{name: key.String(), field: "spec.certSecretRef"}
		}
		return nil, fmt.Errorf("reading secret %s (spec.certSecretRef): %w", key, err)
	}
	red.Add(string(s.Data[clientKeyKey]))
	var opts []registry.Option
	if ca, ok := s.Data[caCertKey]; ok {
		opts = append(opts, registry.WithCA(ca))
	}
	certPEM, hasCert := s.Data[clientCertKey]
	keyPEM, hasKey := s.Data[clientKeyKey]
	switch {
	case hasCert && hasKey:
		opts = append(opts, registry.WithClientCertificate(certPEM, keyPEM))
	case hasCert || hasKey:
		return nil, fmt.Errorf("%w: Secret %s (spec.certSecretRef) has only one of %s and %s", errInvalidImageSecret, key, clientCertKey, clientKeyKey)
	case len(opts) == 0:
		return nil, fmt.Errorf("%w: Secret %s (spec.certSecretRef) has none of %s, %s, %s", errInvalidImageSecret, key, caCertKey, clientCertKey, clientKeyKey)
	}
	return opts, nil
}

// imageFailureReason maps an error of a scan or a digest lookup to a
// condition reason, and says whether only a change of spec or Secret can
// cure it.
func imageFailureReason(err error) (reason string, stalled bool) {
	var se *secretError
	var pe *registry.PatternError
	switch {
	case errors.As(err, &se):
		return v1alpha1.ReasonSecretNotFound, false
	case errors.Is(err, errInvalidImageSecret), errors.Is(err, registry.ErrInvalidDockerConfig),
		errors.Is(err, registry.ErrInvalidCertificate), errors.Is(err, registry.ErrInvalidImage), errors.As(err, &pe):
		return v1alpha1.ReasonInvalidSpec, true
	case errors.Is(err, registry.ErrTooManyTags):
		return v1alpha1.ReasonTooManyTags, true
	case errors.Is(err, registry.ErrAuthentication), errors.Is(err, registry.ErrTLS):
		return v1alpha1.ReasonAuthenticationFailed, false
	case errors.Is(err, registry.ErrUnreachable):
		return v1alpha1.ReasonRegistryUnreachable, false
	case errors.Is(err, registry.ErrNotFound):
		return v1alpha1.ReasonImageNotFound, false
	default:
		return v1alpha1.ReasonScanFailed, false
	}
}
