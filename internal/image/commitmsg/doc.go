// Package commitmsg renders the commit message of an image update from a
// Go text/template with Flux's data: .AutomationObject (namespace/name of
// the ImageUpdate), .Changed (the setters' Result: .FileChanges, .Objects,
// .Changes) and .Values (spec.git.commit.messageTemplateValues), so
// templates written for Flux's ImageUpdateAutomation work unchanged.
//
// Rendering is hermetic: the functions are a small set of pure string
// helpers (no environment, files, network or clock), `range` may only walk
// data (not a number literal, which could spin for ever), a template may
// not call itself, printf refuses huge widths, a render stops after
// MaxSteps passes and runs, and the message is capped at MaxMessageSize. It does not
// write commits; package gitwrite does.
package commitmsg
