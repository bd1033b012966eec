// Quality measurements of library models, kept in the database with their entry (migration 008).
import type { Database } from "better-sqlite3";
import { qualityMeasurementSchema, type QualityMeasurement } from "../../contract/api.js";

export class QualityStore {
  constructor(private readonly db: Database) {}

  /** One model's measurements, all of them or none: a cancelled or failed run never leaves part of them. */
  save(measurements: readonly QualityMeasurement[]): void {
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO quality_results (model_id, text_id, text_name, text_sha256, context_size, app_version, measured_at, measurement)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const m of measurements) {
        if (m.modelId === null) continue;
        insert.run(m.modelId, m.text.id, m.text.name, m.text.sha256, m.contextSize, m.appVersion, m.measuredAt, JSON.stringify(m));
      }
    })();
  }

  /** Newest first; rows that no longer parse (written by another version) are left out rather than failing. */
  list(modelIds?: readonly string[]): QualityMeasurement[] {
    const rows =
      modelIds === undefined
        ? this.db.prepare<[], { measurement: string }>("SELECT measurement FROM quality_results ORDER BY measured_at DESC").all()
        : this.db
            .prepare<[string], { measurement: string }>("SELECT measurement FROM quality_results WHERE model_id IN (SELECT value FROM json_each(?)) ORDER BY measured_at DESC")
            .all(JSON.stringify(modelIds));
    return rows.flatMap((row) => {
      const parsed = qualityMeasurementSchema.safeParse(JSON.parse(row.measurement));
      return parsed.success ? [parsed.data] : [];
    });
  }
}
