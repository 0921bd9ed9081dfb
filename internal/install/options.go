package install

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flotilla-io/flotilla/internal/version"
)

// Names of the objects install creates.
const (
	// DefaultNamespace is where the agent runs unless told otherwise.
	DefaultNamespace = "flotilla-system"
	// AgentName names the ServiceAccount, the ClusterRole and the Deployment.
	AgentName = "flotilla-agent"
	// LeaderElectionName names the Role and RoleBinding for leader election.
	LeaderElectionName = "flotilla-agent-leader-election"
	// ImageRepository is where the agent's image is published.
	ImageRepository = "ghcr.io/flotilla-io/flotilla"
)

// Labels every object install creates carries.
const (
	PartOfLabel    = "app.kubernetes.io/part-of"
	NameLabel      = "app.kubernetes.io/name"
	ComponentLabel = "app.kubernetes.io/component"
	VersionLabel   = "app.kubernetes.io/version"
	// PartOf is the value of PartOfLabel.
	PartOf = "flotilla"
)

// Options say what to install.
type Options struct {
	// Namespace of the agent, its ServiceAccount and its Lease.
	Namespace string
	// Image of the agent.
	Image string
	// Replicas of the agent; more than one are safe (leader election).
	Replicas int32
	// ClusterAdmin binds the agent's ServiceAccount to cluster-admin, for
	// Stacks that apply any kind anywhere without a serviceAccountName.
	ClusterAdmin bool
	// Version goes into the app.kubernetes.io/version label.
	Version string
}

// DefaultOptions returns the options of a plain `flotilla install`: this
// binary's version of the agent, one replica, least privilege.
func DefaultOptions() Options {
	v := version.Get().Version
	return Options{Namespace: DefaultNamespace, Image: DefaultImage(v), Replicas: 1, Version: v}
}

// DefaultImage is the agent's image of a version: ImageRepository tagged
// ImageTag(version).
func DefaultImage(version string) string {
	return ImageRepository + ":" + ImageTag(version)
}

// maxTagLength is the longest tag the OCI distribution spec allows.
const maxTagLength = 128

// ImageTag turns a version into a valid image tag
// ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}). `git describe --dirty` versions
// such as v0.1.0-3-gabcdef0-dirty are already valid and stay as they are;
// any other character (the + of a Go pseudo-version's +dirty, a / of a
// branch name) becomes '-', a leading '.' or '-' becomes '_', and an empty
// version is "dev".
func ImageTag(version string) string {
	if version == "" {
		return "dev"
	}
	tag := []byte(version)
	for i, c := range tag {
		if !isTagChar(c) {
			tag[i] = '-'
		}
	}
	if tag[0] == '.' || tag[0] == '-' {
		tag[0] = '_'
	}
	return string(tag[:min(len(tag), maxTagLength)])
}

func isTagChar(c byte) bool {
	return c == '_' || c == '.' || c == '-' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// Validate says which option cannot work.
func (o Options) Validate() error {
	if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
		return fmt.Errorf("namespace %q is not a valid namespace name: %s", o.Namespace, errs[0])
	}
	if o.Image == "" {
		return fmt.Errorf("image is empty: pass --image, for example %s", DefaultImage(version.Get().Version))
	}
	if _, err := name.ParseReference(o.Image); err != nil {
		return fmt.Errorf("image %q is not an image reference such as %s: %w", o.Image, DefaultImage(version.Get().Version), err)
	}
	if o.Replicas < 1 {
		return fmt.Errorf("replicas must be at least 1, got %d", o.Replicas)
	}
	return nil
}

// labels returns the labels of every object, plus extra.
func (o Options) labels(extra map[string]string) map[string]string {
	l := map[string]string{PartOfLabel: PartOf, ComponentLabel: "agent"}
	if o.Version != "" && len(validation.IsValidLabelValue(o.Version)) == 0 {
		l[VersionLabel] = o.Version
	}
	for k, v := range extra {
		l[k] = v
	}
	return l
}
