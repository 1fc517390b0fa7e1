// example.mjs: mvector from Node.js with npm pg (and pg-copy-streams for COPY), Float32Array both ways.
//
// Text and binary parameters and results, COPY FORMAT binary in and out, and
// a KNN query.  Connects with libpq's environment (PGHOST, PGPORT, PGUSER,
// PGDATABASE); run by test/suites/32_clients.sh, which checks what it
// stores and prints.  Versions are pinned in test/clients/package.json.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';

// --- the mapping: Float32Array <-> mvector ---------------------------------

// '[1,2.5,-3]': a float32 read into a JS number prints exactly
const mvectorToText = (arr) => '[' + Array.from(arr).join(',') + ']';
const mvectorFromText = (text) => Float32Array.from(text.slice(1, -1).split(','), Number);

// int16 dims, int16 zero, big-endian float4s (pgvector's layout); node-pg
// sends a Buffer parameter in binary form.  Never pass the Float32Array
// itself: node-pg would send its raw bytes, in the machine's byte order.
function mvectorToBinary(arr) {
	const buf = Buffer.alloc(4 + 4 * arr.length);
	buf.writeInt16BE(arr.length, 0);
	buf.writeInt16BE(0, 2);
	arr.forEach((x, i) => buf.writeFloatBE(x, 4 + 4 * i));
	return buf;
}
function mvectorFromBinary(buf) {
	const dims = buf.readInt16BE(0);
	return Float32Array.from({ length: dims }, (_, i) => buf.readFloatBE(4 + 4 * i));
}

// mvector results, text or binary, come back as Float32Arrays
async function registerMvector(client) {
	const { rows } = await client.query("SELECT 'mvector'::regtype::oid AS oid");
	pg.types.setTypeParser(rows[0].oid, 'text', mvectorFromText);
	pg.types.setTypeParser(rows[0].oid, 'binary', mvectorFromBinary);
}

// --- COPY FORMAT binary: (id bigint, emb mvector) rows ---------------------

const COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);

function* copyBinaryRows(rows) {
	yield COPY_HEADER;
	for (const [id, arr] of rows) {
		const emb = mvectorToBinary(arr);
		const head = Buffer.alloc(18);
		head.writeInt16BE(2, 0);
		head.writeInt32BE(8, 2);
		head.writeBigInt64BE(BigInt(id), 6);
		head.writeInt32BE(emb.length, 14);
		yield Buffer.concat([head, emb]);
	}
	yield Buffer.from([0xff, 0xff]);
}

function readCopyBinaryRows(data) {
	const rows = new Map();
	for (let pos = COPY_HEADER.length; data.readInt16BE(pos) !== -1;) {
		const id = Number(data.readBigInt64BE(pos + 6));
		const length = data.readInt32BE(pos + 14);
		rows.set(id, mvectorFromBinary(data.subarray(pos + 18, pos + 18 + length)));
		pos += 18 + length;
	}
	return rows;
}

// --- the example -----------------------------------------------------------

const DIMS = 16, ROWS = 200;

// deterministic float32 values that the test recomputes in SQL
const itemVector = (i) => Float32Array.from({ length: DIMS }, (_, j) => (((i * 37 + j * 101) % 199) - 99) / 7);

function exactRows(got, items) {
	const bits = (arr) => Array.from(new Uint32Array(arr.buffer, arr.byteOffset, arr.length)).join();
	return [...items.keys()].filter((i) => got.has(i) && bits(got.get(i)) === bits(items.get(i))).length;
}

const client = new pg.Client();
await client.connect();
await registerMvector(client);
const items = new Map(Array.from({ length: ROWS }, (_, k) => [k + 1, itemVector(k + 1)]));

await client.query('DROP TABLE IF EXISTS items_node');
await client.query(`CREATE TABLE items_node (id bigint PRIMARY KEY, emb mvector(${DIMS}))`);
// parameters in text form, in binary form, then COPY BINARY
for (const i of [1, 2])
	await client.query('INSERT INTO items_node (id, emb) VALUES ($1, $2)', [i, mvectorToText(items.get(i))]);
for (const i of [3, 4])
	await client.query('INSERT INTO items_node (id, emb) VALUES ($1, $2)', [i, mvectorToBinary(items.get(i))]);
const rest = [...items].filter(([i]) => i >= 5);
await pipeline(Readable.from(copyBinaryRows(rest)),
	client.query(copyStreams.from('COPY items_node (id, emb) FROM STDIN (FORMAT binary)')));

const asMap = (rows) => new Map(rows.map((r) => [Number(r.id), r.emb]));
const text = await client.query('SELECT id, emb FROM items_node');
console.log(`round trip (text): ${exactRows(asMap(text.rows), items)} of ${ROWS} rows exact`);
// binary: true asks for every result column in binary form
const binary = await client.query({ text: 'SELECT id, emb FROM items_node', binary: true });
console.log(`round trip (binary): ${exactRows(asMap(binary.rows), items)} of ${ROWS} rows exact`);
const chunks = [];
for await (const chunk of client.query(copyStreams.to('COPY items_node (id, emb) TO STDOUT (FORMAT binary)')))
	chunks.push(chunk);
console.log(`round trip (COPY-binary): ${exactRows(readCopyBinaryRows(Buffer.concat(chunks)), items)} of ${ROWS} rows exact`);

const knn = await client.query('SELECT id FROM items_node ORDER BY emb <=> $1 LIMIT 5', [mvectorToBinary(items.get(7))]);
console.log('knn: ' + knn.rows.map((r) => r.id).join(' '));
await client.end();
