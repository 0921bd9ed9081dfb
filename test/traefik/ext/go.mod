// Module ext stands in for Traefik's dynamic configuration extension
// (github.com/traefik/traefik/dynamic/ext), a nested module of Traefik's
// repository that the Go module proxy does not serve. Traefik embeds its two
// types, empty in the open source build, in its HTTP configuration.
module github.com/traefik/traefik/dynamic/ext

go 1.26.0
