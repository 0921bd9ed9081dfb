package canary

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
)

// Kinds of tracked configs, the prefix of their keys in TrackedConfigs.
const (
	configMapPrefix = "ConfigMap/"
	secretPrefix    = "Secret/"
)

// configRefs lists the ConfigMaps and Secrets t's pods use (volumes,
// projected volumes, env and envFrom), as ConfigMap/NAME and Secret/NAME.
func configRefs(t *corev1.PodTemplateSpec) map[string]bool {
	refs := map[string]bool{}
	add := func(prefix, name string) {
		if name != "" {
			refs[prefix+name] = true
		}
	}
	for _, v := range t.Spec.Volumes {
		if v.ConfigMap != nil {
			add(configMapPrefix, v.ConfigMap.Name)
		}
		if v.Secret != nil {
			add(secretPrefix, v.Secret.SecretName)
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					add(configMapPrefix, s.ConfigMap.Name)
				}
				if s.Secret != nil {
					add(secretPrefix, s.Secret.Name)
				}
			}
		}
	}
	for _, c := range append(append([]corev1.Container{}, t.Spec.InitContainers...), t.Spec.Containers...) {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				add(configMapPrefix, e.ConfigMapRef.Name)
			}
			if e.SecretRef != nil {
				add(secretPrefix, e.SecretRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				add(configMapPrefix, r.Name)
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				add(secretPrefix, r.Name)
			}
		}
	}
	return refs
}

// trackedConfigs hashes the data of every ConfigMap and Secret t uses. One
// that does not exist (an optional reference) is left out; only hashes are
// kept, never values.
func (d *Deployments) trackedConfigs(ctx context.Context, t *appsv1.Deployment) (map[string]string, error) {
	refs := configRefs(&t.Spec.Template)
	if len(refs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(refs))
	for ref := range refs {
		data, err := d.configData(ctx, t.Namespace, ref)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s/%s used by Deployment %s: %w", t.Namespace, ref, t.Name, err)
		}
		b, _ := json.Marshal(data)
		sum := sha256.Sum256(b)
		out[ref] = hex.EncodeToString(sum[:])[:16]
	}
	return out, nil
}

// configData returns the data of the ConfigMap or Secret ref names.
func (d *Deployments) configData(ctx context.Context, namespace, ref string) (any, error) {
	if name, ok := strings.CutPrefix(ref, configMapPrefix); ok {
		var cm corev1.ConfigMap
		err := d.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &cm)
		return [2]any{cm.Data, cm.BinaryData}, err
	}
	name, _ := strings.CutPrefix(ref, secretPrefix)
	var s corev1.Secret
	err := d.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s)
	return s.Data, err
}
