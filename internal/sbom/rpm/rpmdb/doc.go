// Package rpmdb decodes rpm's on-disk formats without any database
// library: NDB (Packages.db), Berkeley DB hash files (Packages) and the
// header blobs all three database kinds store. Every offset is checked,
// so corrupt input is an error, never a panic or an endless loop.
package rpmdb
