package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/vigilsec/vigil/internal/config"
	"github.com/vigilsec/vigil/internal/outputs"
)

func queueConfig(q config.Queue) outputs.QueueConfig {
	retries := q.MaxRetries
	if retries == 0 {
		retries = -1 // 0 in the file means no retry; QueueConfig's 0 means the default
	}
	return outputs.QueueConfig{Size: q.QueueSize, MaxRetries: retries,
		InitialBackoff: time.Duration(q.InitialBackoff), MaxBackoff: time.Duration(q.MaxBackoff)}
}

func tlsConfig(t config.TLS) outputs.TLSConfig {
	return outputs.TLSConfig{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, InsecureSkipVerify: t.InsecureSkipVerify}
}

// buildOutputs starts a queue for every enabled output. On error it
// closes those already started.
func buildOutputs(o config.Outputs, stdout io.Writer) (*outputs.Dispatcher, error) {
	var queues []*outputs.Queue
	add := func(name string, q config.Queue, s outputs.Sink, err error) error {
		if err != nil {
			return err
		}
		queues = append(queues, outputs.NewQueue(name, s, queueConfig(q)))
		return nil
	}
	var err error
	if o.Stdout.Enabled {
		f, e := outputs.ParseFormat(o.Stdout.Format)
		err = errors.Join(err, e)
		if e == nil {
			err = errors.Join(err, add("stdout", o.Stdout.Queue, outputs.NewWriterSink(stdout, f), nil))
		}
	}
	if c := o.File; c.Enabled && err == nil {
		s, e := outputs.NewFileSink(outputs.FileConfig{Path: c.Path, MaxSize: int64(c.MaxSizeMB) << 20, MaxFiles: c.MaxFiles})
		err = add("file", c.Queue, s, e)
	}
	if c := o.Syslog; c.Enabled && err == nil {
		s, e := outputs.NewSyslogSink(outputs.SyslogConfig{Network: c.Network, Address: c.Address, Facility: c.Facility, AppName: c.AppName})
		err = add("syslog", c.Queue, s, e)
	}
	if c := o.Program; c.Enabled && err == nil {
		s, e := outputs.NewProgramSink(c.Command)
		err = add("program", c.Queue, s, e)
	}
	if c := o.HTTP; c.Enabled && err == nil {
		s, e := outputs.NewHTTPSink(outputs.HTTPConfig{URL: c.URL, Headers: c.Headers, Timeout: time.Duration(c.Timeout), TLS: tlsConfig(c.TLS)})
		err = add("http", c.Queue, s, e)
	}
	if c := o.NATS; c.Enabled && err == nil {
		s, e := outputs.NewNATSSink(outputs.NATSConfig{URL: c.URL, SubjectPrefix: c.SubjectPrefix, JetStream: c.JetStream,
			Timeout: time.Duration(c.Timeout), TLS: tlsConfig(c.TLS)})
		err = add("nats", c.Queue, s, e)
	}
	if c := o.Kafka; c.Enabled && err == nil {
		s, e := outputs.NewKafkaSink(outputs.KafkaConfig{Brokers: c.Brokers, Topic: c.Topic, Key: c.Key,
			Timeout: time.Duration(c.Timeout), TLS: tlsConfig(c.TLS)})
		err = add("kafka", c.Queue, s, e)
	}
	d := outputs.NewDispatcher(queues...)
	if err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		d.Close(ctx)
		return nil, err
	}
	return d, nil
}
