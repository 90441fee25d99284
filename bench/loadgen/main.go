// Command otlpbench is the load generator and the sink of bench/passthrough.ts: both sides of an
// OTLP/gRPC pass-through measurement, written so that neither is the bottleneck.
//
//	otlpbench sink -addr 127.0.0.1:4319
//	otlpbench load -target 127.0.0.1:4317 [-concurrency 8] [-spans 100] [-rate 0] [-shape llm|agent|content] [-values varied|fixed]
//
// Payloads are encoded once at start-up and sent as raw bytes; the sink counts spans by walking the
// protobuf wire format (three nested length-delimited fields) without decoding anything else. Both
// print one JSON line of cumulative counters every -every (default 250ms) on stdout, which the
// harness reads; they run until killed.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	resource "go.opentelemetry.io/proto/otlp/resource/v1"
	trace "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

const exportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

// rawCodec passes message bytes through: the load generator sends pre-encoded requests, the sink
// reads the request's bytes and answers an empty ExportTraceServiceResponse.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	if b, ok := v.(*[]byte); ok {
		*b = data
		return nil
	}
	return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
}

func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: otlpbench sink|load [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "sink":
		err = sink(os.Args[2:])
	case "load":
		err = load(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (sink|load)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "otlpbench:", err)
		os.Exit(1)
	}
}

// report prints the counters as one JSON line every `every` until the process ends.
func report(every time.Duration, snapshot func() map[string]any) {
	enc := json.NewEncoder(os.Stdout)
	start := time.Now()
	for range time.Tick(every) {
		m := snapshot()
		m["t_ms"] = time.Since(start).Milliseconds()
		_ = enc.Encode(m)
	}
}

// ---- sink ----

// countSpans walks ExportTraceServiceRequest.resource_spans(1) -> ResourceSpans.scope_spans(2) ->
// ScopeSpans.spans(2) and counts the spans without decoding them.
func countSpans(b []byte) (int, error) {
	n := 0
	err := eachField(b, 1, func(rs []byte) error {
		return eachField(rs, 2, func(ss []byte) error {
			return eachField(ss, 2, func([]byte) error { n++; return nil })
		})
	})
	return n, err
}

// eachField calls fn with the bytes of every length-delimited field `num` of message b.
func eachField(b []byte, num protowire.Number, fn func([]byte) error) error {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return protowire.ParseError(l)
			}
			if err := fn(v); err != nil {
				return err
			}
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
	}
	return nil
}

func sink(args []string) error {
	fs := flag.NewFlagSet("sink", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	every := fs.Duration("every", 250*time.Millisecond, "report interval")
	_ = fs.Parse(args)

	var spans, requests, bytes, bad atomic.Int64
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	empty := []byte{}
	handler := func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		var in []byte
		if err := dec(&in); err != nil {
			return nil, err
		}
		n, err := countSpans(in)
		if err != nil {
			bad.Add(1)
		}
		spans.Add(int64(n))
		requests.Add(1)
		bytes.Add(int64(len(in)))
		return &empty, nil
	}
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.MaxRecvMsgSize(256<<20))
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "opentelemetry.proto.collector.trace.v1.TraceService",
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: handler}},
	}, struct{}{})
	fmt.Fprintf(os.Stderr, "sink listening on %s\n", lis.Addr())
	go report(*every, func() map[string]any {
		return map[string]any{"spans": spans.Load(), "requests": requests.Load(), "bytes": bytes.Load(), "bad": bad.Load()}
	})
	return srv.Serve(lis)
}

// ---- load ----

func str(k, v string) *common.KeyValue {
	return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: v}}}
}
func integer(k string, v int64) *common.KeyValue {
	return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_IntValue{IntValue: v}}}
}
func double(k string, v float64) *common.KeyValue {
	return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_DoubleValue{DoubleValue: v}}}
}

// A pre-encoded request, where its ids sit in it, so each send can carry fresh ones, and where the
// values sit that differ on every call of a real agent (see sites), so each send can vary them.
type payload struct {
	bytes    []byte
	traceIDs []int // offsets of 16-byte trace ids
	spanIDs  []int // offsets of 8-byte span and parent span ids
	sites
}

// withFreshIDs returns a copy of the request whose traces are new ones: every trace id gets `n` in
// its first 8 bytes, every span id (and parent reference, the same bytes) `n` xored into its first 4.
// Without it the distinct requests would repeat their traces every round, which a trace-keyed
// processor (baseline, provenance) would see as old traces growing.
func (p *payload) withFreshIDs(n uint64) []byte {
	b := make([]byte, len(p.bytes))
	copy(b, p.bytes)
	for _, at := range p.traceIDs {
		binary.BigEndian.PutUint64(b[at:], n)
	}
	for _, at := range p.spanIDs {
		binary.BigEndian.PutUint32(b[at:], binary.BigEndian.Uint32(b[at:])^uint32(n))
	}
	return b
}

// encode marshals a request and finds every occurrence of the ids it was built with. The ids are
// random, so their bytes occur nowhere else in the request.
func encode(req *collectortrace.ExportTraceServiceRequest, traceIDs, spanIDs [][]byte) *payload {
	b, err := proto.Marshal(req)
	if err != nil {
		panic(err)
	}
	s, err := findSites(b)
	if err != nil {
		panic(err)
	}
	p := &payload{bytes: b, sites: s}
	find := func(id []byte) (offsets []int) {
		for from := 0; ; {
			i := bytes.Index(b[from:], id)
			if i < 0 {
				return offsets
			}
			offsets = append(offsets, from+i)
			from += i + len(id)
		}
	}
	for _, id := range traceIDs {
		p.traceIDs = append(p.traceIDs, find(id)...)
	}
	for _, id := range spanIDs {
		p.spanIDs = append(p.spanIDs, find(id)...)
	}
	return p
}

func randomID(r *rand.Rand, n int) []byte {
	id := make([]byte, n)
	for i := range id {
		id[i] = byte(r.IntN(256))
	}
	return id
}

var benchResource = &resource.Resource{Attributes: []*common.KeyValue{
	str("service.name", "bench-agent"), integer("process.pid", 1234), str("host.name", "bench"),
}}

func oneRequest(spans []*trace.Span) *collectortrace.ExportTraceServiceRequest {
	return &collectortrace.ExportTraceServiceRequest{ResourceSpans: []*trace.ResourceSpans{{
		Resource:   benchResource,
		ScopeSpans: []*trace.ScopeSpans{{Scope: &common.InstrumentationScope{Name: "bench", Version: "1"}, Spans: spans}},
	}}}
}

// llmSpan is an LLM client call: ten GenAI and HTTP attributes and a gen_ai.choice event.
func llmSpan(tid, sid, parent []byte, start uint64) *trace.Span {
	return &trace.Span{
		TraceId:           tid,
		SpanId:            sid,
		ParentSpanId:      parent,
		Name:              "chat gpt-4o",
		Kind:              trace.Span_SPAN_KIND_CLIENT,
		StartTimeUnixNano: start,
		EndTimeUnixNano:   start + 1_500_000_000,
		Attributes: []*common.KeyValue{
			str("gen_ai.operation.name", "chat"),
			str("gen_ai.provider.name", "openai"),
			str("gen_ai.request.model", "gpt-4o"),
			integer("gen_ai.usage.input_tokens", 812),
			integer("gen_ai.usage.output_tokens", 96),
			str("server.address", "api.openai.com"),
			integer("server.port", 443),
			str("http.request.method", "POST"),
			integer("http.response.status_code", 200),
			double("gen_ai.request.temperature", 0.2),
		},
		Events: []*trace.Span_Event{{
			TimeUnixNano: start + 10,
			Name:         "gen_ai.choice",
			Attributes:   []*common.KeyValue{integer("index", 0), str("gen_ai.response.finish_reason", "stop")},
		}},
		Status: &trace.Status{Code: trace.Status_STATUS_CODE_OK},
	}
}

// llmRequest: `spans` LLM client spans, each its own trace (under a parent the request does not carry).
func llmRequest(r *rand.Rand, spans int) *payload {
	now := uint64(time.Now().UnixNano())
	var tids, sids [][]byte
	parent := randomID(r, 8)
	ss := make([]*trace.Span, spans)
	for i := range ss {
		tid, sid := randomID(r, 16), randomID(r, 8)
		tids, sids = append(tids, tid), append(sids, sid)
		ss[i] = llmSpan(tid, sid, parent, now)
	}
	return encode(oneRequest(ss), tids, append(sids, parent))
}

// agentRequest: traces of an agent run, ten spans each (spans/10 traces): the agent's root span,
// three LLM calls, three tool calls, the HTTP calls of two tools and the MCP call of the third, as
// LangChain/OpenInference/MCP instrumentation in GenAI conventions reports them.
func agentRequest(r *rand.Rand, spans int) *payload { return agentRun(r, spans, false) }

// contentRequest: agentRequest's traces with what OpenInference records when content capture is on
// (its default): each LLM call's `input.value` (the conversation so far, tool results included) and
// `output.value`, each tool call's arguments and result: ~17 KB a trace, ~1.7 KB a span (1,716 bytes on the wire against 310 for the agent load).
func contentRequest(r *rand.Rand, spans int) *payload { return agentRun(r, spans, true) }

// A knowledge-base answer or a file as a tool returns it: JSON text with quotes, newlines and accents.
func toolResult(name string, n int) string {
	var b strings.Builder
	b.WriteString(`{"tool":"` + name + `","documents":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"doc-%d","title":"Garantie für \"Modell X-%d\"","text":"Reklamationen werden binnen 14 Tagen bearbeitet.\nBitte Rechnung, Seriennummer und Kaufdatum (2025-0%d-1%d) beilegen.\tKontakt: support-%d@example.com","score":0.%d}`, i, i, 1+i%9, i%10, i, 90-i)
	}
	b.WriteString("]}")
	return b.String()
}

func chatJSON(messages []string) string {
	var b strings.Builder
	b.WriteString(`{"messages":[`)
	for i, m := range messages {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(m)
	}
	b.WriteString("]}")
	return b.String()
}

func agentRun(r *rand.Rand, spans int, content bool) *payload {
	now := uint64(time.Now().UnixNano())
	var tids, sids [][]byte
	var ss []*trace.Span
	for t := 0; t < spans/10; t++ {
		tid := randomID(r, 16)
		tids = append(tids, tid)
		id := func() []byte { sid := randomID(r, 8); sids = append(sids, sid); return sid }
		root := id()
		at := now
		span := func(sid, parent []byte, name string, kind trace.Span_SpanKind, ms uint64, attrs ...*common.KeyValue) *trace.Span {
			s := &trace.Span{TraceId: tid, SpanId: sid, ParentSpanId: parent, Name: name, Kind: kind, StartTimeUnixNano: at, EndTimeUnixNano: at + ms*1_000_000, Attributes: attrs, Status: &trace.Status{Code: trace.Status_STATUS_CODE_OK}}
			return s
		}
		tool := func(name, callID string) (*trace.Span, []byte) {
			sid := id()
			return span(sid, root, "execute_tool "+name, trace.Span_SPAN_KIND_INTERNAL, 300,
				str("gen_ai.operation.name", "execute_tool"), str("gen_ai.tool.name", name), str("gen_ai.tool.call.id", callID), str("gen_ai.tool.type", "function")), sid
		}
		httpCall := func(parent []byte, url, host string, port int64) *trace.Span {
			return span(id(), parent, "POST", trace.Span_SPAN_KIND_CLIENT, 250,
				str("http.request.method", "POST"), str("url.full", url), str("server.address", host), integer("server.port", port), integer("http.response.status_code", 200))
		}
		// With content: the conversation grows by each tool's result, and every LLM call carries all of it.
		chat := []string{`{"role":"system","content":"You are the support agent of Beispiel GmbH. Answer in the customer's language."}`, `{"role":"user","content":"Ich möchte eine Garantie für mein \"Modell X-3\" anmelden."}`}
		llm := func() *trace.Span {
			s := llmSpan(tid, id(), root, at)
			if content {
				s.Attributes = append(s.Attributes, str("input.value", chatJSON(chat)), str("output.value", `{"role":"assistant","content":"","tool_calls":[{"name":"search_kb","arguments":"{\"query\":\"warranty claim\",\"top_k\":3}"}]}`))
			}
			return s
		}
		withContent := func(s *trace.Span, args, result string) *trace.Span {
			if content {
				s.Attributes = append(s.Attributes, str("input.value", args), str("output.value", result))
				quoted, _ := json.Marshal(result)
				chat = append(chat, `{"role":"tool","content":`+string(quoted)+`}`)
			}
			return s
		}
		ss = append(ss, span(root, nil, "invoke_agent support-agent", trace.Span_SPAN_KIND_INTERNAL, 9_000,
			str("gen_ai.operation.name", "invoke_agent"), str("gen_ai.agent.name", "support-agent"), str("gen_ai.provider.name", "openai")))
		ss = append(ss, llm())
		at += 1_600_000_000
		kb, kbID := tool("search_kb", "call_kb1")
		kb = withContent(kb, `{"query":"warranty claim process","collection":"faq","top_k":3}`, toolResult("search_kb", 12))
		ss = append(ss, kb, httpCall(kbID, "http://kb.internal:8080/search", "kb.internal", 8080))
		at += 400_000_000
		ss = append(ss, llm())
		at += 1_600_000_000
		rf, rfID := tool("read_file", "call_fs1")
		rf = withContent(rf, `{"path":"faq/warranty.md"}`, toolResult("read_file", 8))
		ss = append(ss, rf, span(id(), rfID, "tools/call read_file", trace.Span_SPAN_KIND_CLIENT, 200,
			str("mcp.method.name", "tools/call"), str("gen_ai.tool.name", "read_file"), str("gen_ai.operation.name", "execute_tool"), str("mcp.session.id", "8f2c1e"), str("network.transport", "pipe")))
		at += 400_000_000
		ss = append(ss, llm())
		at += 1_600_000_000
		tk, tkID := tool("create_ticket", "call_tk1")
		tk = withContent(tk, `{"subject":"Garantie Modell X-3","body":"Kunde bittet um Garantie.\nRechnung liegt bei."}`, `{"ticket":"T-4711","status":"open"}`)
		ss = append(ss, tk, httpCall(tkID, "http://tickets.internal:8081/tickets", "tickets.internal", 8081))
	}
	return encode(oneRequest(ss), tids, sids)
}

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	target := fs.String("target", "127.0.0.1:4317", "collector OTLP/gRPC address")
	concurrency := fs.Int("concurrency", 8, "requests in flight at most")
	spans := fs.Int("spans", 100, "spans per request")
	rate := fs.Float64("rate", 0, "spans/s to offer; 0 = closed loop (each sender sends its next request when the last is answered)")
	distinct := fs.Int("distinct", 64, "distinct pre-encoded requests, sent round robin (each send with fresh trace and span ids)")
	shape := fs.String("shape", "llm", "llm: every span an LLM client call in its own trace; agent: agent-run traces of 10 spans (root, LLM, tool, HTTP, MCP spans); content: those with OpenInference's input.value/output.value on LLM and tool spans")
	values := fs.String("values", "varied", "varied: token counts, tool call ids, timestamps and durations, and content digits differ on every send (varied.go); fixed: only the ids do, every other value repeats with its payload (the load before -values)")
	every := fs.Duration("every", 250*time.Millisecond, "report interval")
	backoff := fs.Duration("refused-backoff", 20*time.Millisecond, "sender pause after a refused request")
	_ = fs.Parse(args)

	build := llmRequest
	switch *shape {
	case "llm":
	case "agent", "content":
		if *spans%10 != 0 {
			return fmt.Errorf("-shape %s: -spans must be a multiple of 10, got %d", *shape, *spans)
		}
		build = agentRequest
		if *shape == "content" {
			build = contentRequest
		}
	default:
		return fmt.Errorf("-shape: llm, agent or content, got %q", *shape)
	}
	if *values != "varied" && *values != "fixed" {
		return fmt.Errorf("-values: varied or fixed, got %q", *values)
	}
	r := rand.New(rand.NewPCG(1, 2))
	payloads := make([]*payload, *distinct)
	for i := range payloads {
		payloads[i] = build(r, *spans)
	}
	conn, err := grpc.NewClient(*target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})),
	)
	if err != nil {
		return err
	}
	defer conn.Close()

	var sentSpans, okRequests, refused, missed atomic.Int64
	fmt.Fprintf(os.Stderr, "load: %d-span %s requests of %d bytes, %s values, to %s\n", *spans, *shape, len(payloads[0].bytes), *values, *target)
	go report(*every, func() map[string]any {
		return map[string]any{"sent_spans": sentSpans.Load(), "ok_requests": okRequests.Load(), "refused": refused.Load(), "missed": missed.Load()}
	})

	var seq atomic.Int64
	began := time.Now()
	send := func() {
		n := seq.Add(1)
		pl := payloads[int(n)%len(payloads)]
		p := pl.withFreshIDs(uint64(n))
		if *values == "varied" {
			pl.vary(p, uint64(n), uint64(time.Since(began)))
		}
		var out []byte
		err := conn.Invoke(context.Background(), exportMethod, &p, &out)
		if err != nil {
			refused.Add(1)
			time.Sleep(*backoff)
			return
		}
		okRequests.Add(1)
		sentSpans.Add(int64(*spans))
	}

	var wg sync.WaitGroup
	if *rate <= 0 {
		for range *concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					send()
				}
			}()
		}
		wg.Wait()
		return nil
	}
	// Open loop: a pacer offers one request every spans/rate seconds to `concurrency` senders; an
	// offer no sender is free to take is counted as missed (the collector could not keep up).
	ticks := make(chan struct{}, *concurrency)
	for range *concurrency {
		go func() {
			for range ticks {
				send()
			}
		}()
	}
	interval := time.Duration(float64(time.Second) * float64(*spans) / *rate)
	next := time.Now()
	for {
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		select {
		case ticks <- struct{}{}:
		default:
			missed.Add(1)
		}
	}
}
