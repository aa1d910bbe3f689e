# Administers a testenv Samba AD domain in one process (samba-tool pays Python's and Samba's start-up
# for every command): reads a JSON list of operations on stdin, runs them in order against the
# sam.ldb of the smb.conf given as the only argument. Each operation does what the samba-tool
# command named beside it does. Passwords come on stdin only and are never printed.
import json
import sys

import ldb
from samba import enable_net_export_keytab
from samba.auth import system_session
from samba.net import Net
from samba.param import LoadParm
from samba.samdb import SamDB

enable_net_export_keytab()
lp = LoadParm()
lp.load(sys.argv[1])
db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
net = Net(None, lp)


def account_dn(name):
    res = db.search(db.domain_dn(), scope=ldb.SCOPE_SUBTREE,
                    expression="(sAMAccountName=%s)" % ldb.binary_encode(name), attrs=[])
    if len(res) != 1:
        raise Exception("no account %s" % name)
    return res[0].dn


def modify(account, attr, value, flag):
    m = ldb.Message()
    m.dn = account_dn(account)
    m[attr] = ldb.MessageElement(value, flag, attr)
    db.modify(m)


for i, op in enumerate(json.load(sys.stdin)):
    kind = op["op"]
    try:
        if kind == "user":  # samba-tool user create NAME PASSWORD
            db.newuser(op["name"], op["password"])
        elif kind == "spn":  # samba-tool spn add SPN ACCOUNT
            modify(op["account"], "servicePrincipalName", op["spn"], ldb.FLAG_MOD_ADD)
        elif kind == "upn":  # what ktpass -princ SPN -mapuser ACCOUNT sets: the SPN can log in (AS-REQ)
            modify(op["account"], "userPrincipalName", op["name"], ldb.FLAG_MOD_REPLACE)
        elif kind == "enctypes":  # samba-tool user edit ACCOUNT (msDS-SupportedEncryptionTypes: MASK)
            modify(op["account"], "msDS-SupportedEncryptionTypes", str(op["mask"]), ldb.FLAG_MOD_REPLACE)
        elif kind == "setpassword":  # samba-tool user setpassword ACCOUNT --newpassword=PASSWORD
            db.setpassword("(sAMAccountName=%s)" % ldb.binary_encode(op["account"]), op["password"],
                           force_change_at_next_login=False, username=op["account"])
        elif kind == "exportkeytab":  # samba-tool domain exportkeytab KEYTAB --principal=PRINCIPAL
            net.export_keytab(keytab=op["keytab"], principal=op["principal"])
        else:
            raise Exception("unknown operation")
    except Exception as e:
        sys.stderr.write("operation %d (%s %s): %s\n" % (i, kind, op.get("name") or op.get("account") or op.get("principal") or "", e))
        sys.exit(1)
