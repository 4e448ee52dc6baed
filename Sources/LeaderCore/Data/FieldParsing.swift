/// Allocation-free parsing of CSV field bytes: integers, dates, trimmed keys.
enum FieldParsing {
    /// A decimal integer with optional sign, optional surrounding spaces and an optional `.0…` fraction of zeros
    /// (pandas writes integer ids as `123.0` after a NaN). Nil on anything else or on overflow.
    static func int64(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0, n = b.count
        while i < n, b[i] == 0x20 { i += 1 }
        while n > i, b[n - 1] == 0x20 { n -= 1 }
        guard i < n else { return nil }
        var neg = false
        if b[i] == 0x2D || b[i] == 0x2B {
            neg = b[i] == 0x2D
            i += 1
        }
        guard i < n else { return nil }
        var v: Int64 = 0
        var digits = 0
        while i < n, b[i] >= 0x30, b[i] <= 0x39 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(b[i] &- 0x30))
            guard !o1, !o2 else { return nil }
            v = s
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        if i < n, b[i] == 0x2E {
            i += 1
            while i < n, b[i] == 0x30 { i += 1 }
        }
        guard i == n else { return nil }
        return neg ? -v : v
    }

    /// `YYYY-MM-DD`, optionally followed by ` HH:MM[:SS[.fff]]` or `THH:MM…`: seconds since 1970-01-01
    /// (proleptic Gregorian; MIMIC's shifted years 2100–2200 are fine). Nil when unparsable.
    static func timestamp(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0, n = b.count
        while i < n, b[i] == 0x20 { i += 1 }
        while n > i, b[n - 1] == 0x20 { n -= 1 }
        func num(_ len: Int) -> Int? {
            guard i + len <= n else { return nil }
            var v = 0
            for k in 0..<len {
                let c = b[i + k]
                guard c >= 0x30, c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            i += len
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < n, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let y = num(4), expect(0x2D), let m = num(2), expect(0x2D), let d = num(2) else { return nil }
        guard (1...12).contains(m), (1...31).contains(d) else { return nil }
        var secs = 0
        if i < n {
            guard b[i] == 0x20 || b[i] == 0x54 else { return nil }
            i += 1
            guard let hh = num(2), expect(0x3A), let mm = num(2) else { return nil }
            var ss = 0
            if i < n {
                guard expect(0x3A), let s = num(2) else { return nil }
                ss = s
                if i < n {
                    guard b[i] == 0x2E else { return nil }
                    i += 1
                    while i < n, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
                }
            }
            guard i == n, hh < 24, mm < 60, ss < 61 else { return nil }
            secs = hh * 3600 + mm * 60 + ss
        }
        return Int64(daysFromCivil(y, m, d)) * 86400 + Int64(secs)
    }

    /// Days since 1970-01-01 (`CivilTime`, Howard Hinnant's algorithm).
    static func daysFromCivil(_ y: Int, _ m: Int, _ d: Int) -> Int { CivilTime.days(year: y, month: m, day: d) }

    /// (year, month, day) of a `timestamp` value (seconds since 1970-01-01).
    static func civil(_ t: Int64) -> (year: Int, month: Int, day: Int) {
        CivilTime.civil(days: Int(t >= 0 ? t / 86400 : (t - 86399) / 86400))
    }

    /// Whole years from `birth` to `at` (both `timestamp` values).
    static func ageYears(birth: Int64, at: Int64) -> Int {
        let a = civil(birth), b = civil(at)
        var years = b.year - a.year
        if (b.month, b.day) < (a.month, a.day) { years -= 1 }
        return years
    }

    /// 64-bit FNV-1a of bytes (for de-duplication keys).
    @inline(__always)
    static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in b { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
        return h
    }

    /// True when the bytes are empty or only spaces and tabs.
    @inline(__always)
    static func isBlank(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in b where c != 0x20 && c != 0x09 { return false }
        return true
    }

    /// FNV-1a over `a`, a separator byte, then `b` (memo keys for (NDC, drug name) pairs).
    @inline(__always)
    static func hash(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in a { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
        h = (h ^ 0xFF) &* 0x100_0000_01b3
        for c in b { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
        return h
    }

    /// 64-bit FNV-1a of three byte strings with a separator between them (memo keys).
    @inline(__always)
    static func hash(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>,
                     _ c: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = hash(a, b)
        h = (h ^ 0xFF) &* 0x100_0000_01b3
        for x in c { h = (h ^ UInt64(x)) &* 0x100_0000_01b3 }
        return h
    }

    /// The field with spaces trimmed, or nil when that leaves nothing.
    static func nonEmpty(_ row: CSVRow, _ i: Int) -> String? {
        let s = row.trimmed(i)
        return s.isEmpty ? nil : s
    }
}
