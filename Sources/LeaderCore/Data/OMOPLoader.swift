/// Loads an OMOP CDM v5.3/5.4 CSV export: person, visit_occurrence, condition_occurrence, procedure_occurrence,
/// drug_exposure, concept (required), concept_ancestor and concept_relationship (optional). Visits come from
/// `PrepareConfig.visitSource`: the rows of visit_occurrence, or every visit id the clinical tables reference
/// (exports often hold events of visits their visit table lacks). An event with an empty visit_occurrence_id but a
/// visit_detail_id belongs to that detail's visit (`visit_detail.visit_occurrence_id`, when the table is given);
/// events without a visit, or with concept 0, are dropped and counted.
/// Medications: the ATC level-3 classes reached from the drug concept (itself, its `concept_ancestor` ancestors,
/// or `concept_relationship` targets of it and of its ancestors; ATC codes longer than 4 characters are
/// truncated); else its RxNorm ingredient ancestors (`RxNorm:<code>`); else the drug concept itself. Condition
/// and procedure keys are `<vocabulary_id>:<concept_code>` (`concept:<id>` when the concept table lacks the id);
/// titles are `concept_name`. Profile: gender, race, ethnicity (concept names), age bucket, visit type.
public enum OMOPLoader {
    public static let profileColumns = ["gender", "race", "ethnicity", "age", "visit_type"]

    struct Person {
        var gender: Int64
        var race: Int64
        var ethnicity: Int64
        var birth: Int64?
    }

    struct ConceptInfo {
        var vocabulary: String
        var conceptClass: String
        var code: String
        var name: String
    }

    struct Event {
        var visit: Int64
        var person: Int64
        var concept: Int64
        var start: Int64
    }

    /// Loads the CSV files of folder `dir`.
    public static func load(directory dir: String, config: PrepareConfig,
                            progress: ((String) -> Void)? = nil) throws(LeaderError) -> Cohort {
        guard CohortFiles.isDirectory(dir) else { throw .io("\(dir): input folder not found") }
        return try load(.folder(dir), config: config, progress: progress)
    }

    /// Loads the tables of `source` (a folder or a PostgreSQL schema): the same rows give the same cohort.
    public static func load(_ source: TableSource, config: PrepareConfig,
                            progress: ((String) -> Void)? = nil) throws(LeaderError) -> Cohort {
        let personTable = try source.require("person")
        let visitTable = try source.require("visit_occurrence")
        let condTable = try source.require("condition_occurrence")
        let procTable = try source.require("procedure_occurrence")
        let drugTable = try source.require("drug_exposure")
        let conceptTable = try source.require("concept")
        var report = PreparationReport()

        progress?("reading person")
        let people = try readPersons(personTable, &report)
        progress?("reading visit_occurrence")
        let r = try visitTable.open()
        let vid = try r.column("visit_occurrence_id"), pid = try r.column("person_id")
        let vconcept = try r.column("visit_concept_id"), vdate = try r.column("visit_start_date")
        let vdatetime = r.optionalColumn("visit_start_datetime")
        var visits: [(id: Int64, person: Int64, concept: Int64, time: Int64)] = []
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
            let id = try MIMICLoader.int(row, vid, r, "visit_occurrence_id")
            let person = try MIMICLoader.int(row, pid, r, "person_id")
            let concept = row.trimmed(vconcept).isEmpty ? 0 : try MIMICLoader.int(row, vconcept, r, "visit_concept_id")
            var t: Int64? = nil
            if let c = vdatetime, !row.trimmed(c).isEmpty { t = FieldParsing.timestamp(row.bytes(c)) }
            let time: Int64
            if let t { time = t } else { time = try MIMICLoader.time(row, vdate, r, "visit_start_date") }
            visits.append((id, person, concept, time))
        }
        report.rowsRead["visit_occurrence"] = visits.count
        let detailVisit = try readVisitDetails(source.find("visit_detail"), &report, progress)

        func readEvents(_ t: TableSource.Table, conceptColumn: String, dateColumns: [String]) throws(LeaderError) -> [Event] {
            progress?("reading \(t.name)")
            let r = try t.open()
            let table = t.name
            let v = try r.column("visit_occurrence_id"), c = try r.column(conceptColumn)
            let d = try r.column(anyOf: dateColumns), pid = try r.column("person_id")
            let detail = r.optionalColumn("visit_detail_id")
            var out: [Event] = []
            var rows = 0, noVisit = 0, zero = 0, unknownDetail = 0, noDetailTable = 0
            try r.forEachRow { (row: CSVRow) throws(LeaderError) in
                rows += 1
                var id = try MIMICLoader.optionalInt(row, v, r, "visit_occurrence_id")
                if id == nil, let detail, let did = try MIMICLoader.optionalInt(row, detail, r, "visit_detail_id") {
                    if let detailVisit {
                        guard let parent = detailVisit[did] else { unknownDetail += 1; return }
                        id = parent
                    } else {
                        noDetailTable += 1
                        return
                    }
                }
                guard let visit = id else {
                    noVisit += 1
                    return
                }
                let concept = try MIMICLoader.optionalInt(row, c, r, conceptColumn) ?? 0
                guard concept != 0 else { zero += 1; return }
                var t: Int64 = 0
                if !row.trimmed(d).isEmpty { t = try MIMICLoader.time(row, d, r, r.header[d]) }
                let person = try MIMICLoader.int(row, pid, r, "person_id")
                out.append(Event(visit: visit, person: person, concept: concept, start: t))
            }
            report.rowsRead[table] = rows
            report.drop("\(table): empty visit_occurrence_id", noVisit)
            report.drop("\(table): visit_detail_id not in visit_detail (or its visit_occurrence_id empty)", unknownDetail)
            report.drop("\(table): only a visit_detail_id, and no visit_detail table to find its visit", noDetailTable)
            report.drop("\(table): concept 0 (no standard concept)", zero)
            return out
        }
        let conditions = try readEvents(condTable, conceptColumn: "condition_concept_id",
                                        dateColumns: ["condition_start_date", "condition_start_datetime"])
        let procedures = try readEvents(procTable, conceptColumn: "procedure_concept_id",
                                        dateColumns: ["procedure_date", "procedure_datetime"])
        let drugs = try readEvents(drugTable, conceptColumn: "drug_concept_id",
                                   dateColumns: ["drug_exposure_start_date", "drug_exposure_start_datetime"])
        visits = resolveVisits(visits, events: [conditions, procedures, drugs], config.visitSource, &report)

        // Vocabulary tables, filtered to the concepts this cohort needs.
        let drugConcepts = Set(drugs.map(\.concept))
        var needed = drugConcepts
        for e in conditions { needed.insert(e.concept) }
        for e in procedures { needed.insert(e.concept) }
        for p in people.values { needed.formUnion([p.gender, p.race, p.ethnicity]) }
        for v in visits { needed.insert(v.concept) }
        var ancestors: [Int64: [Int64]] = [:]
        if let t = source.find("concept_ancestor") {
            progress?("reading concept_ancestor")
            let r = try t.open()
            let a = try r.column("ancestor_concept_id"), d = try r.column("descendant_concept_id")
            var rows = 0
            try r.forEachRow { (row: CSVRow) throws(LeaderError) in
                rows += 1
                let desc = try MIMICLoader.int(row, d, r, "descendant_concept_id")
                guard drugConcepts.contains(desc) else { return }
                let anc = try MIMICLoader.int(row, a, r, "ancestor_concept_id")
                if anc != desc { ancestors[desc, default: []].append(anc) }
            }
            report.rowsRead["concept_ancestor"] = rows
        }
        for list in ancestors.values { needed.formUnion(list) }
        var related: [Int64: [Int64]] = [:]
        if let t = source.find("concept_relationship") {
            progress?("reading concept_relationship")
            var sources = drugConcepts
            for list in ancestors.values { sources.formUnion(list) }
            let r = try t.open()
            let c1 = try r.column("concept_id_1"), c2 = try r.column("concept_id_2")
            let rel = try r.column("relationship_id")
            var rows = 0
            try r.forEachRow { (row: CSVRow) throws(LeaderError) in
                rows += 1
                let a = try MIMICLoader.int(row, c1, r, "concept_id_1")
                guard sources.contains(a) else { return }
                let name = row.trimmed(rel)
                guard name == "Maps to" || name.contains("ATC") else { return }
                let b = try MIMICLoader.int(row, c2, r, "concept_id_2")
                related[a, default: []].append(b)
            }
            report.rowsRead["concept_relationship"] = rows
        }
        for list in related.values { needed.formUnion(list) }
        progress?("reading concept")
        var concepts: [Int64: ConceptInfo] = [:]
        do {
            let r = try conceptTable.open()
            let id = try r.column("concept_id"), name = try r.column("concept_name")
            let vocab = try r.column("vocabulary_id"), cls = try r.column("concept_class_id")
            let code = try r.column("concept_code")
            var rows = 0
            try r.forEachRow { (row: CSVRow) throws(LeaderError) in
                rows += 1
                let cid = try MIMICLoader.int(row, id, r, "concept_id")
                // Needed concepts, and every ATC level-3 class (a few hundred rows) for medication titles.
                guard needed.contains(cid) || (row.bytes(code).count == 4 && row.trimmed(vocab) == "ATC") else { return }
                concepts[cid] = ConceptInfo(vocabulary: row.trimmed(vocab), conceptClass: row.trimmed(cls),
                                            code: row.trimmed(code), name: row.trimmed(name))
            }
            report.rowsRead["concept"] = rows
        }

        // Drug concept → medication keys.
        var atc3Title: [String: String] = [:]
        for info in concepts.values where info.vocabulary == "ATC" && info.code.utf8.count == 4 {
            atc3Title[info.code] = info.name.lowercased()
        }
        var medKeys: [Int64: [(key: String, system: String, title: String, route: String)]] = [:]
        // Drug concepts that are no prescription, with the reason each of their rows is dropped for; drug concepts
        // whose pseudo-ingredient was left out of their ingredients.
        var notPrescribed: [Int64: String] = [:]
        var partlyInert = Set<Int64>()
        let excluded = Set(config.excludedDrugVocabularies)
        for d in drugConcepts.sorted() {
            if let info = concepts[d], excluded.contains(info.vocabulary) {
                notPrescribed[d] = "drug_exposure: \(info.vocabulary) concept, not a prescription (excludedDrugVocabularies)"
                continue
            }
            var candidates = [d] + (ancestors[d] ?? [])
            var rel: [Int64] = []
            for c in candidates { rel += related[c] ?? [] }
            candidates += rel
            var atc: [String] = []
            for c in candidates {
                guard let info = concepts[c], info.vocabulary == "ATC", info.code.utf8.count >= 4 else { continue }
                let code = String(info.code.prefix(4))
                if !atc.contains(code) { atc.append(code) }
            }
            if !atc.isEmpty {
                medKeys[d] = atc.sorted().map { code in
                    (code, "ATC3", atc3Title[code] ?? "", "atc")
                }
                continue
            }
            var ingredients: [(String, String, String, String)] = []
            var inert = false
            for c in [d] + (ancestors[d] ?? []) {
                guard let info = concepts[c], info.vocabulary.hasPrefix("RxNorm"), info.conceptClass == "Ingredient"
                else { continue }
                // RxNorm and RxNorm Extension alike; "inert ingredients" (the placebo days of a pack) is no drug
                if isPseudoIngredient(info.name) { inert = true; continue }
                let key = "\(info.vocabulary):\(info.code)"
                if !ingredients.contains(where: { $0.0 == key }) {
                    ingredients.append((key, info.vocabulary, info.name, "ingredient"))
                }
            }
            if !ingredients.isEmpty {
                medKeys[d] = ingredients.sorted { $0.0 < $1.0 }
                if inert { partlyInert.insert(d) }
                continue
            }
            if inert {
                notPrescribed[d] = "drug_exposure: only pseudo-ingredients (inert), not a drug"
                continue
            }
            if let info = concepts[d] {
                medKeys[d] = [("\(info.vocabulary):\(info.code)", info.vocabulary, info.name, "drug_concept")]
            } else {
                medKeys[d] = [("concept:\(d)", "OMOP", "", "drug_concept")]
            }
        }

        // Build.
        var names = ["gender", "race", "ethnicity", "age", "visit_type"]
        if !config.profileGender { names.removeAll { $0 == "gender" } }
        if !config.profileAge { names.removeAll { $0 == "age" } }
        var b = CohortBuilder(source: DataSource.omop.rawValue, profileNames: names)
        b.report = report
        var personOf: [Int64: Int64] = [:]
        for v in visits where personOf[v.id] == nil { personOf[v.id] = v.person }
        var missingPerson = 0
        for v in visits {
            let p = people[v.person]
            if p == nil { missingPerson += 1 }
            var values: [String] = []
            func cid(_ x: Int64?) -> String { (x ?? 0) == 0 ? "" : String(x ?? 0) }
            if config.profileGender { values.append(cid(p?.gender)) }
            values.append(cid(p?.race))
            values.append(cid(p?.ethnicity))
            if config.profileAge {
                values.append(AgeBucket.label(years: p?.birth.map { FieldParsing.ageYears(birth: $0, at: v.time) }))
            }
            values.append(cid(v.concept))
            if !b.addVisit(id: v.id, patient: v.person, time: v.time, profile: values) {
                b.report.drop("visit_occurrence: duplicate visit_occurrence_id")
            }
        }
        b.report.drop("visit_occurrence: person_id not in person (profile unknown)", missingPerson)
        for (f, name) in names.enumerated() where name != "age" {
            b.renameProfileValues(field: f) { s in
                guard let id = Int64(s) else { return s }
                return concepts[id]?.name ?? "concept \(s)"
            }
        }
        for (kind, events, table) in [(CodeKind.diagnosis, conditions, "condition_occurrence"),
                                      (.procedure, procedures, "procedure_occurrence")] {
            var unknown = 0, otherPerson = 0
            for e in events {
                guard let v = b.visit(e.visit) else { unknown += 1; continue }
                guard personOf[e.visit] == e.person else { otherPerson += 1; continue }
                if let info = concepts[e.concept] {
                    b.addCode(kind, visit: v, key: "\(info.vocabulary):\(info.code)", system: info.vocabulary)
                } else {
                    b.addCode(kind, visit: v, key: "concept:\(e.concept)", system: "OMOP")
                }
            }
            b.report.drop("\(table): visit_occurrence_id not in visit_occurrence", unknown)
            b.report.drop("\(table): person_id differs from the visit's", otherPerson)
        }
        var unknownDrugVisit = 0, otherDrugPerson = 0
        var routes: [String: Int] = [:]
        for e in drugs {
            guard let v = b.visit(e.visit) else { unknownDrugVisit += 1; continue }
            guard personOf[e.visit] == e.person else { otherDrugPerson += 1; continue }
            guard let keys = medKeys[e.concept] else {
                if let reason = notPrescribed[e.concept] { b.report.drop(reason) }
                continue
            }
            if partlyInert.contains(e.concept) {
                b.report.drop("drug_exposure: pseudo-ingredient (inert) left out of the ingredients")
            }
            routes[keys[0].route, default: 0] += 1
            for k in keys {
                b.addMedicationRow(visit: v, key: k.key, system: k.system, start: e.start,
                                   drug: UInt64(bitPattern: e.concept))
            }
        }
        b.report.medicationRows = routes
        b.report.drop("drug_exposure: visit_occurrence_id not in visit_occurrence", unknownDrugVisit)
        b.report.drop("drug_exposure: person_id differs from the visit's", otherDrugPerson)
        var cohort = try b.build(config: config)
        // Titles: concept names.
        var titleOf: [String: String] = [:]
        for info in concepts.values { titleOf["\(info.vocabulary):\(info.code)"] = info.name }
        for list in medKeys.values { for k in list { titleOf[k.key] = k.title } }
        for kind in CodeKind.allCases {
            var voc = cohort.vocabulary(kind)
            for i in 0..<voc.count { voc.setTitle(titleOf[voc.keys[i]] ?? "", for: Int32(i)) }
            cohort.setVocabulary(voc)
        }
        cohort.countMissingTitles()
        return cohort
    }

    /// The visits of the cohort by `source` ("table", "referenced" or "auto"; `PrepareConfig.visitSource`): the
    /// table's rows, plus, when referenced, one visit per id the events reference that the table lacks — its
    /// person the most frequent person of its rows (rows of other persons are counted), its start the earliest
    /// date of its rows, its type unknown. Visits with no dated row are dropped and counted.
    static func resolveVisits(_ table: [(id: Int64, person: Int64, concept: Int64, time: Int64)], events: [[Event]],
                              _ source: String, _ report: inout PreparationReport)
        -> [(id: Int64, person: Int64, concept: Int64, time: Int64)]
    {
        let inTable = Set(table.map(\.id))
        var rows = 0, orphan = 0
        var missing: [Int64: (persons: [Int64: Int], start: Int64?)] = [:]
        for list in events {
            for e in list {
                rows += 1
                guard !inTable.contains(e.visit) else { continue }
                orphan += 1
                var m = missing[e.visit] ?? ([:], nil)
                m.persons[e.person, default: 0] += 1
                if e.start != 0 { m.start = min(m.start ?? e.start, e.start) }
                missing[e.visit] = m
            }
        }
        let share = rows == 0 ? 0 : Double(orphan) / Double(rows)
        let percent = PreparationReport.percent(share)
        var referenced = source == "referenced"
        if source == "auto" && orphan > 0 && share >= PrepareConfig.referencedShare {
            referenced = true
            report.notes.append("OMOP visits: \(orphan) of \(rows) clinical rows (\(percent)) reference \(missing.count) "
                + "visit ids that visit_occurrence lacks, so visits were taken from the clinical tables "
                + "(visitSource \"referenced\"; set \"table\" to keep only visit_occurrence's rows)")
        } else if orphan > 0 && !referenced {
            report.notes.append("OMOP visits: \(orphan) of \(rows) clinical rows (\(percent)) reference visit ids that "
                + "visit_occurrence lacks and were dropped (visitSource \"\(source)\"; \"referenced\" keeps them)")
        }
        guard referenced else { return table }
        var out = table
        var undated = 0
        for (id, m) in missing.sorted(by: { $0.key < $1.key }) {
            guard let start = m.start else { undated += 1; continue }
            // the most frequent person of its rows (ties: the lower id); other persons' rows are dropped later
            guard let person = m.persons.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key })?.key
            else { continue }
            out.append((id, person, 0, start))
        }
        report.drop("referenced visits: no dated row", undated)
        return out
    }

    /// visit_detail_id → visit_occurrence_id from the visit_detail table (nil when the export has none); details
    /// without a visit are left out (their events are counted when dropped).
    static func readVisitDetails(_ table: TableSource.Table?, _ report: inout PreparationReport,
                                 _ progress: ((String) -> Void)?) throws(LeaderError) -> [Int64: Int64]? {
        guard let table else { return nil }
        progress?("reading visit_detail")
        let r = try table.open()
        let id = try r.column("visit_detail_id"), visit = try r.column("visit_occurrence_id")
        var out: [Int64: Int64] = [:]
        var rows = 0
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
            rows += 1
            let detail = try MIMICLoader.int(row, id, r, "visit_detail_id")
            guard let v = try MIMICLoader.optionalInt(row, visit, r, "visit_occurrence_id") else { return }
            if out.updateValue(v, forKey: detail) != nil { report.drop("visit_detail: duplicate visit_detail_id") }
        }
        report.rowsRead["visit_detail"] = rows
        return out
    }

    /// Ingredient concepts that are not drugs: the "inert ingredients" of contraceptive packs (RxNorm 748794) and
    /// their RxNorm Extension variants.
    static func isPseudoIngredient(_ name: String) -> Bool { name.lowercased().hasPrefix("inert ingredient") }

    static func readPersons(_ table: TableSource.Table, _ report: inout PreparationReport) throws(LeaderError)
        -> [Int64: Person]
    {
        let r = try table.open()
        let pid = try r.column("person_id"), g = try r.column("gender_concept_id")
        let race = try r.column("race_concept_id"), eth = try r.column("ethnicity_concept_id")
        let yob = try r.column("year_of_birth")
        let mob = r.optionalColumn("month_of_birth"), dob = r.optionalColumn("day_of_birth")
        var out: [Int64: Person] = [:]
        var rows = 0
        try r.forEachRow { (row: CSVRow) throws(LeaderError) in
            rows += 1
            let id = try MIMICLoader.int(row, pid, r, "person_id")
            func opt(_ c: Int, _ n: String) throws(LeaderError) -> Int64 {
                try MIMICLoader.optionalInt(row, c, r, n) ?? 0
            }
            var p = Person(gender: try opt(g, "gender_concept_id"), race: try opt(race, "race_concept_id"),
                           ethnicity: try opt(eth, "ethnicity_concept_id"), birth: nil)
            if let y = try MIMICLoader.optionalInt(row, yob, r, "year_of_birth"), (1...9999).contains(y) {
                var m: Int64 = 1, d: Int64 = 1
                if let mob, let v = FieldParsing.int64(row.bytes(mob)), (1...12).contains(v) { m = v }
                if let dob, let v = FieldParsing.int64(row.bytes(dob)), (1...31).contains(v),
                   FieldParsing.civil(Int64(FieldParsing.daysFromCivil(Int(y), Int(m), Int(v))) * 86400).day == Int(v) {
                    d = v
                }
                p.birth = Int64(FieldParsing.daysFromCivil(Int(y), Int(m), Int(d))) * 86400
            }
            if out.updateValue(p, forKey: id) != nil { report.drop("person: duplicate person_id") }
        }
        report.rowsRead["person"] = rows
        return out
    }
}
