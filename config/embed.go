// Package config holds Flotilla's generated manifests (the CRDs and the
// agent's ClusterRole, written by `make generate`) and embeds them, so the
// binary installs exactly what this source tree generated. It holds no code
// beyond the embedding.
package config

import "embed"

// Manifests holds crd/bases/*.yaml and rbac/role.yaml.
//
//go:embed crd/bases/*.yaml rbac/role.yaml
var Manifests embed.FS

// CRDGlob matches the CRD files in Manifests.
const CRDGlob = "crd/bases/*.yaml"

// ClusterRoleFile is the agent's generated ClusterRole in Manifests.
const ClusterRoleFile = "rbac/role.yaml"
