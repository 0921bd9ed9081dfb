// Package ociimage builds, pushes and archives OCI images without a
// container engine: an image is assembled FROM SCRATCH from the files it
// needs (a static binary, a CA bundle), with a fixed timestamp, so the same
// inputs always give the same digest.
//
// It provides:
//
//   - Build and FromBinary: a single-layer image for an explicit platform,
//     with /tmp (1777) and the parent directories of every file;
//   - AgentImage and AppImage: Flotilla's agent and the example app;
//   - Push and Pull: a registry over TLS with a private CA and basic auth,
//     or plain HTTP;
//   - WriteTarball, WriteOCILayout, WriteOCIArchive and Index: archives that
//     `ctr images import` and `docker load` read, and multi-platform indexes;
//   - BuildGo: a static `go build` for a platform.
//
// Package ocitest runs an in-process registry (TLS, basic auth) for tests.
//
// It is not a Dockerfile interpreter and never pulls a base image: the
// images it makes hold exactly the files given to it.
package ociimage
