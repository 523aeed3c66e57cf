// A small file of secrets under DATA_DIR, made on first start and kept (mode 0600): its contents
// must stay the same across restarts and between processes starting at once.
import fs from 'node:fs';
import path from 'node:path';

/** The parsed JSON of DATA_DIR/`name`, written first with `make()`'s text where there is none. */
export function loadOrCreateJson(dataDir: string, name: string, make: () => string): { file: string; parsed: unknown } {
  const file = path.join(dataDir, name);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, make(), { mode: 0o600 });
    try {
      // link() fails if another process made the file meanwhile: theirs wins, and readers never see half a file.
      fs.linkSync(tmp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  return { file, parsed: JSON.parse(fs.readFileSync(file, 'utf8')) };
}
