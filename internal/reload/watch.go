package reload

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/vigilsec/vigil/internal/config"
)

// Run reloads on every signal from hup (SIGHUP, which the caller
// subscribes early so that it never kills the agent) and, when watch is
// set, once the watched files have been quiet for debounce after a
// change. It returns when ctx ends. Call it once.
func (r *Reloader) Run(ctx context.Context, hup <-chan os.Signal, watch bool, debounce time.Duration) {
	var w *watcher
	if watch {
		var err error
		if w, err = newWatcher(); err != nil {
			r.cfg.Log.Warn("cannot watch rule and configuration files; reload with SIGHUP", "error", err.Error())
		} else {
			defer w.close(r.cfg.Log)
			w.sync(r.watchTargets(), r.cfg.Log)
		}
	}
	close(r.watching)
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		events, errs = w.fs.Events, w.fs.Errors
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var changed []string
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-hup:
			_ = r.Reload("SIGHUP") // Reload logs and counts its failures
		case ev := <-events:
			if w.relevant(ev) {
				if len(changed) < maxNamesLogged {
					changed = append(changed, ev.Name)
				}
				timer.Reset(debounce)
			}
			continue
		case err := <-errs:
			r.cfg.Log.Warn("file watch error", "error", err.Error())
			continue
		case <-timer.C:
			slices.Sort(changed)
			_ = r.Reload("file change: " + strings.Join(slices.Compact(changed), ",")) // as SIGHUP
			changed = changed[:0]
		}
		if w != nil {
			// The rule paths may have changed, or a file may have been
			// replaced (which watches the new one only through its
			// directory, so nothing to redo there).
			w.sync(r.watchTargets(), r.cfg.Log)
		}
	}
}

// maxNamesLogged bounds the file names a burst of changes collects for
// the reload's log line.
const maxNamesLogged = 16

// dirTarget is what to react to inside one watched directory.
type dirTarget struct {
	names map[string]bool // these files
	rules bool            // every .yaml and .yml file (a rule directory)
}

// watchTargets returns the directories to watch for the running and the
// last attempted configuration. Files are watched through their
// directory: editors and config tools replace a file by renaming a new
// one over it, which a watch on the file itself would lose.
func (r *Reloader) watchTargets() map[string]*dirTarget {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]*dirTarget{}
	file := func(path string) {
		abs, err := filepath.Abs(path)
		if err != nil {
			return
		}
		dir, name := filepath.Split(abs)
		dir = filepath.Clean(dir)
		t := out[dir]
		if t == nil {
			t = &dirTarget{names: map[string]bool{}}
			out[dir] = t
		}
		t.names[name] = true
	}
	for _, c := range []*config.Config{r.current, r.attempted} {
		for _, p := range c.Rules {
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				abs, _ := filepath.Abs(p)
				if out[abs] == nil {
					out[abs] = &dirTarget{names: map[string]bool{}}
				}
				out[abs].rules = true
				continue
			}
			file(p)
		}
	}
	if r.cfg.ConfigPath != "" {
		file(r.cfg.ConfigPath)
	}
	return out
}

// watcher is an fsnotify watch on a set of directories.
type watcher struct {
	fs      *fsnotify.Watcher
	targets map[string]*dirTarget
}

func newWatcher() (*watcher, error) {
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	return &watcher{fs: fs, targets: map[string]*dirTarget{}}, nil
}

// sync watches exactly the directories of targets. A directory that does
// not exist is skipped: a missing rule file is a reload error already.
func (w *watcher) sync(targets map[string]*dirTarget, log interface{ Debug(string, ...any) }) {
	for dir := range w.targets {
		if targets[dir] == nil {
			// A directory deleted since has lost its watch already.
			if err := w.fs.Remove(dir); err != nil {
				log.Debug("not unwatching directory", "dir", dir, "error", err.Error())
			}
		}
	}
	watched := map[string]*dirTarget{}
	for dir, t := range targets {
		if err := w.fs.Add(dir); err != nil {
			log.Debug("not watching directory", "dir", dir, "error", err.Error())
			continue
		}
		watched[dir] = t
	}
	w.targets = watched
}

// relevant reports whether ev changes a watched file. Kubernetes ConfigMap
// volumes swap a "..data" symlink instead of touching the files, so
// changes to names starting with ".." count in every watched directory.
func (w *watcher) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	dir, name := filepath.Split(ev.Name)
	t := w.targets[filepath.Clean(dir)]
	if t == nil {
		return false
	}
	ext := strings.ToLower(filepath.Ext(name))
	return t.names[name] || t.rules && (ext == ".yaml" || ext == ".yml") || strings.HasPrefix(name, "..")
}

func (w *watcher) close(log interface{ Warn(string, ...any) }) {
	if err := w.fs.Close(); err != nil {
		log.Warn("closing the file watch", "error", err.Error())
	}
}
