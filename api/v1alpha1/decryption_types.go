package v1alpha1

// DecryptionProviderSOPS is the only decryption provider: Mozilla SOPS.
const DecryptionProviderSOPS = "sops"

// Decryption says how a Stack decrypts the SOPS-encrypted files of its
// source, with the field names of Flux's Kustomization.spec.decryption.
type Decryption struct {
	// Provider of the encryption; only sops.
	// +kubebuilder:validation:Enum=sops
	// +required
	Provider string `json:"provider"`

	// SecretRef names a Secret in the Stack's namespace holding the
	// private keys, named as Flux names them: <name>.agekey (age
	// identities) and <name>.asc (armored PGP private keys).
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
}

// ReasonDecryptionFailed means a SOPS-encrypted file could not be
// decrypted, or the Stack has no keys for one; nothing was applied.
const ReasonDecryptionFailed = "DecryptionFailed"
