// Package registry lists the tags of a container image repository and looks
// up a tag's manifest digest, for ImageRepository scans and ImagePolicy
// digest reflection. It reaches the registry with go-containerregistry:
// credentials from kubernetes.io/dockerconfigjson Secrets, a private CA and
// a client certificate, or plain HTTP when asked.
//
// Every error it returns is a *Error naming the image and the registry with
// a Reason (AuthenticationFailed, RegistryUnreachable, ...); none holds a
// password, token or the userinfo of a URL.
//
// It is not a registry client for pushing or pulling images (see package
// ociimage), and it keeps nothing: storing the tags is package tagstore's
// job.
package registry
