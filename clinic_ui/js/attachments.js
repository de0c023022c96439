// Files attached to a referral: the list (with download links) and, while editable, an upload form.

import { ApiError, get, post } from './api.js';
import { formatDateTime, h, replace } from './dom.js';
import { clearFields, markField } from './errors.js';
import { ATTACHMENT_KIND, label } from './labels.js';

const ACCEPT =
  '.pdf,.jpg,.jpeg,.png,.docx,application/pdf,image/jpeg,image/png,' +
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

// The server's default limit for one file (OHCONNECT_ATTACHMENT_MAX_BYTES); checked here before sending
// so that nobody waits for a large upload to be refused. The server checks again.
const MAX_FILE_BYTES = 10 * 1024 * 1024;

function size(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
}

export function attachmentList(referralId, files) {
  if (!files.length) return h('p', { class: 'muted' }, 'No files attached.');
  return h(
    'ul',
    { class: 'files' },
    files.map((file) =>
      h(
        'li',
        {},
        h(
          'a',
          { href: `/api/v1/referrals/${referralId}/attachments/${file.id}`, download: file.filename },
          file.filename,
        ),
        ` – ${label(ATTACHMENT_KIND, file.kind)}, ${size(file.size_bytes)}, added ${formatDateTime(file.created_at)}`,
      ),
    ),
  );
}

export async function loadAttachments(referralId) {
  return get(`/api/v1/referrals/${referralId}/attachments`);
}

/**
 * The upload form. `onProblem(problems, detail)` shows errors in the page's summary;
 * `onUploaded(files)` gets the refreshed list.
 */
export function uploadForm(referralId, { onProblem, onUploaded, announce }) {
  const kind = h(
    'select',
    { id: 'upload-kind', name: 'kind' },
    Object.entries(ATTACHMENT_KIND).map(([value, text]) => h('option', { value }, text)),
  );
  const file = h('input', {
    type: 'file',
    id: 'upload-file',
    name: 'file',
    accept: ACCEPT,
    'aria-describedby': 'upload-file-hint',
  });
  const kindField = h(
    'div',
    { class: 'field', dataset: { field: 'kind', fieldId: 'upload-kind', label: 'Type of file' } },
    h('label', { for: 'upload-kind' }, 'Type of file'),
    kind,
  );
  const fileField = h(
    'div',
    { class: 'field', dataset: { field: 'file', fieldId: 'upload-file', label: 'File' } },
    h('label', { for: 'upload-file' }, 'File'),
    h('p', { class: 'hint', id: 'upload-file-hint' }, `PDF, JPEG, PNG or Word (.docx), up to ${size(MAX_FILE_BYTES)}.`),
    file,
  );
  const button = h('button', { type: 'button', class: 'button button--secondary' }, 'Upload file');
  const panel = h('div', { class: 'upload' }, kindField, fileField, button);

  button.addEventListener('click', async () => {
    clearFields(panel);
    if (!file.files.length) {
      markField(fileField, 'Choose a file to upload');
      onProblem([{ label: 'File', message: 'Choose a file to upload', field: fileField, control: file }]);
      return;
    }
    if (file.files[0].size > MAX_FILE_BYTES) {
      const message = `The file is ${size(file.files[0].size)}; each file may be at most ${size(MAX_FILE_BYTES)}`;
      markField(fileField, message);
      onProblem([{ label: 'File', message, field: fileField, control: file }]);
      return;
    }
    const body = new FormData();
    body.append('file', file.files[0]);
    body.append('kind', kind.value);
    button.disabled = true;
    try {
      await post(`/api/v1/referrals/${referralId}/attachments`, body);
      announce(`Uploaded ${file.files[0].name}.`);
      file.value = '';
      onUploaded(await loadAttachments(referralId));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const message = error.errors[0]?.message || error.detail;
      markField(fileField, message);
      onProblem([{ label: 'File', message, field: fileField, control: file }], error.detail);
    } finally {
      button.disabled = false;
    }
  });
  return panel;
}

/** Replace `container` with the current list of files. */
export function showAttachments(container, referralId, files) {
  replace(container, attachmentList(referralId, files));
}
