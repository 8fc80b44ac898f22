import SecIngest
import SecModel

/// `raw.<path>`: a value inside the original record.
enum RawJSON {
    /// The value at `path`; for an EventBridge envelope, a path not found at the top is
    /// looked up under `detail`, where the CloudTrail fields are.
    static func value(in raw: UnsafeRawBufferPointer, path: [BoundExpr.RawPathSegment]) -> Value {
        let segs: [PathSegment] = path.map { s in s.name.map(PathSegment.key) ?? .index(s.index!) }
        var found = JSONPath.lookup(raw: raw, path: segs)
        if found == nil, case .key(let first)? = segs.first, first != "detail",
           JSONPath.lookup(raw: raw, path: [.key("detail-type")]) != nil {
            found = JSONPath.lookup(raw: raw, path: [.key("detail")] + segs)
        }
        guard let v = found else { return .null }
        switch v {
        case .string(let s): return .string(s)
        case .number: return v.int64.map(Value.int) ?? v.double.map(Value.double) ?? .string(v.text)
        case .bool(let b): return .bool(b)
        case .null: return .null
        case .object(let t), .array(let t): return .string(t)
        }
    }
}
