import struct, json, os
def mp(v):
    if v is None: return b'\xc0'
    if v is True: return b'\xc3'
    if v is False: return b'\xc2'
    if isinstance(v, int):
        if 0 <= v < 128: return bytes([v])
        if -32 <= v < 0: return struct.pack('b', v)
        return b'\xd3' + struct.pack('>q', v)
    if isinstance(v, float): return b'\xcb' + struct.pack('>d', v)
    if isinstance(v, bytes): return b'\xc4' + bytes([len(v)]) + v
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32: return bytes([0xa0 | len(b)]) + b
        return b'\xd9' + bytes([len(b)]) + b
    if isinstance(v, tuple) and v and v[0] == 'ext':
        _, kind, payload = v
        return b'\xc7' + bytes([len(payload)]) + struct.pack('b', kind) + payload
    if isinstance(v, list): return bytes([0x90 | len(v)]) + b''.join(mp(x) for x in v)
    if isinstance(v, dict): return bytes([0x80 | len(v)]) + b''.join(mp(k) + mp(x) for k, x in v.items())
    raise TypeError(v)
unknown = ('ext', 0, b'\x00')
refined = ('ext', 12, mp({1: False, 2: 'ssh-'}))
key_pair = {"name": "k1", "public_key": None, "private_key": unknown, "key_id": refined,
            "fingerprint": unknown, "created_at": unknown, "detach_on_destroy": False,
            "tags": {"env": "test"}, "resource_group_id": None, "project_id": 0}
config = {"cloud": "ecs", "region": "cn-hangzhou", "access_key": None, "secret_key": None,
          "endpoint": "http://127.0.0.1:8080", "max_delete_batch": 100, "batch_window": "250ms"}
seeds = {
    "mp_key_pair": (0, 0, mp(key_pair)),
    "mp_identity": (1, 0, mp({"key_id": "skey-12345678"})),
    "mp_config": (2, 0, mp(config)),
    "mp_dynamic": (3, 0, mp([json.dumps(["list", "number"]).encode(), [1, 2.5, -3]])),
    "mp_dynamic_object": (3, 0, mp([json.dumps(["object", {"a": "string", "b": ["set", "bool"]}]).encode(), {"a": "x", "b": [True]}])),
    "mp_number_decimal": (5, 0, mp("123456789012345678901234567890")),
    "mp_tuple": (10, 0, mp([True, 1.5, [b'"string"', "s"]])),
    "json_key_pair": (0, 1, json.dumps({k: (None if isinstance(v, tuple) else v) for k, v in key_pair.items()}).encode()),
    "json_key_pair_old_schema": (0, 1, json.dumps({"name": "k1", "removed_attribute": 1}).encode()),
    "json_dynamic": (3, 1, json.dumps({"type": ["map", "string"], "value": {"a": "b"}}).encode()),
}
for name, (sel, mode, body) in seeds.items():
    open(f"seeds/value_decode/{name}", "wb").write(bytes([sel, mode]) + body)
