import { join } from 'node:path';
import { ADMIN_UI_ROOT, adminUiFile } from './admin-ui.static';

describe('adminUiFile', () => {
  it('maps UI paths to files under the package UI directory', () => {
    expect(adminUiFile('')).toBe(join(ADMIN_UI_ROOT, 'index.html'));
    expect(adminUiFile('js/app.js')).toBe(join(ADMIN_UI_ROOT, 'js', 'app.js'));
  });

  it('refuses traversal, encoded traversal, bad encodings and unknown file types', () => {
    expect(adminUiFile('../package.json')).toBeUndefined();
    expect(adminUiFile('..%2F..%2Fpackage.json')).toBeUndefined();
    expect(adminUiFile('%E0%A4%A')).toBeUndefined();
    expect(adminUiFile('js/app.ts')).toBeUndefined();
  });
});
