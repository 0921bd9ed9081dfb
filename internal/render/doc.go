// Package render turns a path inside a source artifact (a directory already
// fetched from Git) into the Kubernetes objects the agent applies. The agent,
// `flotilla build`, `flotilla diff` and `flotilla plan` all call Build, so
// what a person previews is what the cluster gets.
//
// A render is: load the artifact, generate a kustomization when the path has
// none, check every kustomization reachable from the path, add the Stack's
// options as an overlay, run kustomize in-process, substitute postBuild
// variables, and convert. Each step checks ctx.
//
// # What the package promises
//
// Nothing outside the artifact root is read. The artifact is copied into
// kyaml's in-memory file system (filesys.MakeFsInMemory) and kustomize sees
// only that. The copy was chosen over a filesys.FileSystem backed by os.Root
// because it is small enough to audit at a glance: whatever field of a
// kustomization names a file (resources, components, patches, generator
// files and envs, crds, openapi, replacements, configurations...), kustomize
// can only find what was copied, so no field can be forgotten. It also
// bounds the work up front (a size limit per file and in total), and lets
// kustomize run with LoadRestrictionsNone, which fleet repositories need
// (clusters/prod -> ../../apps/base). The copy skips .git, reads through
// os.Root, and follows a symlink only when its real target is inside the
// root. A path that cannot be loaded (an escaping or broken symlink, a file
// over the size limit, a device, a name kyaml's file system does not accept)
// is recorded and refused with an error naming it when something refers to
// it, so an unrelated odd file elsewhere in the repository does not stop
// every render. Hard links cannot be told apart from files and are read as
// such; Git does not create them.
//
// Nothing runs. Kustomize runs with builtin plugins only, so no exec or Go
// plugins, no KRM functions and no Helm. Before it runs, every kustomization
// reachable from the path is checked, and a remote base or URL (kustomize
// would exec git or make an HTTP request), helmCharts, a plugin that is not a
// builtin or that asks for a function, and a path that is absolute or climbs
// above the root are refused with the kustomization file, the line and the
// entry.
//
// Errors say where and what to do. Every error is an *Error naming the file
// relative to the root (and the line, when the parser gives one) or the
// object, and wrapping a sentinel (ErrRemote, ErrOutsideRoot, ...) for
// errors.Is. No message holds a substituted value or a Secret's value:
// Flotilla's own messages never quote values, and kustomize's are masked with
// every secret value the render has seen.
//
// Substitution, when Options.Substitute is not empty, replaces ${NAME} and
// ${NAME:=default} in every string of every object, mapping keys included,
// except in objects annotated flotilla.io/substitute: disabled; $${ yields a
// literal ${. An undefined variable without a default, or a malformed ${...},
// is an error naming the object, the field and the variable. Substitution
// works on each object's parsed tree, not on YAML text, so a value can never
// change an object's structure: a value that looks like YAML stays one
// string. An unquoted scalar that held an expression is typed again as YAML
// would type the result, so replicas: ${REPLICAS} is a number, as with Flux.
//
// Decryption, when Options.Decryption is set, runs before kustomize (so
// before substitution) on the in-memory copy, so plaintext never reaches a
// disk: every SOPS-encrypted resource file the kustomizations reach (the
// whole file, or each encrypted document), every SOPS file inside a
// Secret's data or stringData (format from the key's extension), and every
// encrypted secretGenerator env or file, Components included. An object or
// generator annotated flotilla.io/decrypt (or Flux's
// kustomize.toolkit.fluxcd.io/decrypt): Disabled is left as it is. Without
// Options.Decryption, or with the wrong keys, an encrypted file is an
// ErrDecryption naming it; so is an encrypted patch or a ConfigMap
// generator reading an encrypted file: ciphertext is never applied.
//
// A directory without a kustomization renders like Flux: every .yaml and .yml
// file below it, except that a subdirectory holding its own kustomization is
// included as a whole; hidden directories are skipped.
//
// Such a directory of plain files is rendered without kustomize's
// accumulator, which is quadratic in the objects of one build: its files are
// parsed by kustomize's resource factory, ids checked with a map, and the
// Stack's namespace, labels and annotations applied by kustomize's builtin
// transformers, one object at a time (fastpath.go). The output is
// kustomize's, byte for byte, which fastpath_test.go proves over the
// examples, the fixtures, generated fleets and fuzzed input. Whatever the
// fast path does not reproduce (its own kustomization, a subdirectory with
// one, Stack patches or images, kustomize annotations, a possible name
// reference) goes through kustomize, decided from the inputs up front.
// docs/design/render-fast-path.md has the profile and the reasoning.
//
// # What the package is not
//
// It does not fetch sources (internal/source does), unwrap SOPS keys
// (internal/decrypt does, through Options.Decryption), apply, order or prune objects (internal/apply), or validate objects
// against the API server (the server-side dry-run does). It returns objects in
// the order kustomize emits them, not in apply order.
//
// Kustomize cannot be interrupted and keeps its OpenAPI schema in globals.
// Builds run side by side, one per CPU and at least two at once (gate.go);
// one whose kustomizations set `openapi:` runs alone and resets the schema
// after itself, so a tenant's custom schema never changes another's merges.
// Build returns when ctx ends even while kustomize still runs, and that run
// keeps its slot until it finishes: a runaway build holds one slot, never
// all. Kustomize prints deprecation warnings to stderr.
package render
