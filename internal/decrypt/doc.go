// Package decrypt decrypts SOPS-encrypted files with the private keys of a
// Stack's decryption Secret. It is the SOPS half of internal/render: render
// finds the encrypted files a Stack's kustomization reaches (objects of any
// kind, files inside a Secret's data, secretGenerator files and envs, also
// inside Components) and asks this package to detect and decrypt them.
//
// Decryption is SOPS's own: the stores of github.com/getsops/sops/v3 parse
// and emit YAML, JSON, dotenv, INI and binary files, its tree decrypts the
// values with the data key, and the MAC is verified before anything is
// returned. The data key is unwrapped by a key service that holds the keys
// in memory only: age identities through sops's age package
// (filippo.io/age), PGP private keys through OpenPGP
// (github.com/ProtonMail/go-crypto, which sops uses as well). No key and no
// plaintext is ever written to disk, no gpg binary or agent runs, and
// nothing is read from the environment (SOPS_AGE_KEY, GNUPGHOME...).
//
// Keys are named as Flux's kustomize-controller names them in its
// decryption Secret: <name>.agekey holds age identities, <name>.asc armored
// PGP private keys without a passphrase. The cloud and Vault entries Flux
// reads (sops.aws-kms, sops.azure-kv, sops.gcp-kms, sops.vault-token) are
// recognised, and a file that only those keys could decrypt fails with an
// error saying this build does not support them.
//
// Errors name the key types and public recipients involved, never a value:
// neither plaintext nor a private key reaches a message.
//
// # What the package is not
//
// It does not walk kustomizations or decide which files to decrypt (render
// does), read Secrets from the API server (the Stack controller and the CLI
// do), or encrypt anything.
package decrypt
