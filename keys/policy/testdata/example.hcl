# Key policy of the U.S. node of the US-Colombia Puente agreement.
# Reviewed by the CBP privacy office; changes need two custodians' approval.

node = "us-cbp"

# Algorithms this node may use at all. A key of any other algorithm is a finding.
allowed_algorithms = ["ml-dsa-65", "hkdf-sha256", "ckks-secret-share"]

audit {
  # Audit records older than this are pruned behind a signed checkpoint.
  retention = "7y"
}

custodian "alice" {
  role      = "Privacy officer, CBP"
  recipient = "age1pq1sn6mgsu5neeyzfd403pelsec9t63ztppz38pxzs2yphj7azeahz82sx2w4l5w829yy4ntjp000wrncryg8qtvsrcja2vmdcdmlfpm4ehdlgtn3hvgps8naml95y8flfywkprgulk5ywcdxxpvz3u8y8j36zndtc0x7ppn44ectmn74jcq3yr2ad0ws8uknrah3tzshxxhrka2wt0ngwe2gu29r9z54ezwncq33wdkg5fx7uuqey6l04nqrewwa3cy3cvxtr8hfs3wx292e8qqcv02c9dlfqu9h62n6xv3u5cknczlsqyvk4274gxkkcqyuxdp8zdwx2ghmp6qn6xcgeeprms5asywg5r76x8g9mkdrjuh39yzyd8fvq70fe25755z3x8tkpqxlnndp4za2tzjqa4rslnc85kvrm8z30zh75dkc4xypsf424s43v4rvnnq94mfwtq8e9eskk882fnmqswu447mlene9xp05yn42g4efu9kfnvgzjrfkqy58frpxkh67wpjc3gjeggmwkxfa2v8fl6hx53c6pgfg9aqmmf5f5fc752awf6z3g8z0xpztw95tnggn30t2ynws2k78t34klps6qxzdz76pdxcaewywmxwa3h4a6jk5xeyf8teu5yqcsfec8zye3wsup4xf3zgfava5c4szlcpna9gwjp6dqr56r0uu953ehew6ev2ydwjd598pev3vzfuhy9t6kz5x2ytxwkkwgffem2yxdyskpmkqejyfa8355vdpzup7d4getuykz903wu7ytmsl7970q49g7fjxfqu3ueqgp6cu3tt6f85s08ye0lt3zdkjqpf9g86mcy8hhzw35jkexj6wy2p5sux4l4fpfzrssggjtudkn3dgtt3sxjjt792jg8k3l2pcskdnkymew8nqfegn20wfp0p4qq4hpmvk7r475y3dl8gtprg46grmtmknv3yfn7s5z4mdlwkw39pdyhmucx247cewga2xxvmnznpeunx2dq3sk53weka2es8y230etqmmhgwjsf0nzzy7r7jw3p2fttsg44kj8evnxx2ssjtx4ywy4kfme33lzaklu322cwj5q0qnfk825ff00k4gxmv6hkrjedmvc6et5ydgd7f9292xhpv64g2wg3ryjhv6mmq6xj5ywlemrhk06ncjtzxhv4j26z438uhd48rqamc3cefxzpv2dqhfkf8my2pzp2jm2836ukepmz5rpq3p22t7qtw6w6g8dvjna8tgerqh96zux986em8pnwnffdj4gk8zj2t6947epkc65rky926pwg94nuvucj0wdqw03mqtw57a4kyjnp7x5f34f9d86fxdhe6rpshejcvdvhqmlpxjk2ygjyveyuuqjjrufq3q5zhavtx9ezpxjc6atd82ze3gq4q07556z0y7tm2trxvge2x65k2tsnj68pw3429636x0gk4mhxnfv8xx3k0gsx0yaskrrtceegw7yqvrakgq6a943mmdxtr9hq209gtrx9m2pnuurhn8u2vt7h57n0wkengq9j60z4l8u855k58faqdyrtnx0a32ymsr553xlungz9ymvr3x7402vxtruplng9zmdnnsm5ry5eluedn46ndgjewpqvjptumg843zfj9q3xjm2gvmwl9g0vgczst5clch3x43kserl9ccuew6gt62djsvsya66cqj5yy374uee0qfsl3t6kkv9t267yqm42ad5jfxgs2u65nrszc36ns20lyw3ucr9ehqmyncc5ktqnytam5623jfec0z4uxxa9elxy5yuy0juhxyd33tuyfv53z3l4cuqa2x5ymjljhjxztm05zrdkvspwy5jvu6zt6wu6hmzdu4ll86pg34sxed4tmkgvsw0997pnk247q29fez3uv69a6hnpv60ws43tqajsu4759qvzsar8"
}

custodian "bob" {
  role      = "Security officer, CBP"
  recipient = "age1pq12y532xpqv2v9wezmvfxgt5yph85vvxv8rzy4j7p4fwt7tj2mkfytne84xslc8s0mj8qz49e44jcsmtetcng9x8ghp3xve6m5m2qp8chy8hf0hwxmsq4z2cc6m3y4yp268wkd3tyxhs7s24amnn2h04cj252mz8lqqvgvj9uqy3rp8huxvrlvxyedcdkzg5s8rnjnv8q400p04807dfllduuuup2qq9utnnecwwztj7lnacy2w7kyd3k8r72rfrq5ywq4h6uuatug9xq9zvfl835cw7xu8gmuztvv2hy3e3gjjuufus0s3wxz6er5ahcs4kz6ky0c4dyuc3cf7jkqrsvhn0vmngt0l8qpmrpjrfrgpxly55xxkpnat2mluw4m2sjpyy2n8txnvxjv7yu6fwcxegfunppkztnrg227ugn828xr9vy4tps6gmmygxr5e08qywc5yfxxrqp6t8nqdxxd5uawz5ft05qud9nnnxg5jpqd49rcnsse58ykk45nteavt9gfvanpg9unvjjhs9jf54xmkusk573u8y574gfp0vu8n6enpd3s7899ezu8fxg6qa4mhaj6xj756n9m6wdp5ujzs0c4jrjzyruwvfn6neeaz038jr9m5sqnpztr332frfqqe7njy44k87x8g0g6228wj4qw3gkvwlevxs8r8ttwgdawv44m2269hdhfslju2kct2fhqaesyylw2vj6j5jj343zuxuj0zyjn39zzdflhsa02ht7ccqrykq3pmkss6udt0sqcqlv3ltqgurxrlc6j94jn8epqzvcmjp86dgssy9xpl6cg2er8y4tfcc0r3yxf2hsseyazqkkgz8v9jkx6wdmff0pzvjtc0323gfzpnqn98cdqj5t5tkssdjfjzjf2pfztkd637xau3suxx5nrr9l95sjdug4nfnunnx98qyujyye8gem5xjadmkypxpyyyc04swrhngjfegxpn93szcayjws7jzvgexv7uuuk584ryjqszmjwvg3f74xegu4uevug3yzt9yrlvarl43g8y23y5lun9jn2f6qh9fvhh2h3r6pttjjkkmt80cgqgmrtj2dsje3e47zgjthmd88kxtkaussvsy3q3sszgkpsq2zpvc35x59fpuuzrn6vjzsvyd5rrgr3mg99rpzhhhzzpdgun4u3kyvkk5zwsgzay3dmdkc8x4ewes4e2x3t7349z2qrt3k803952f0hwwf05unzznu5sp62gqepj9lkh2u9n4qghvp2d2u9437ywhnsyrqf444lytrgua8fxhpjg5a2ca5ghdk9jckrs3nhstl0vg75dt8ehajla29qf9z5ecdwsjaac9nuyaeq692sg3trhgwtxv595egc8cj68ndyqzezz0g0h235xuh5qschw6rfj23t3rhct2pgvf5gzseu4wvnjvhe9hx525z9qpp529yp3pdswmn2qzclcq6enxqj8ge99dvruds8v0k8ntlz5yq4n2ncp7rtpguyzh444g2xm0837w70jmsu5yqjr4jr27u3swlfpe6nkujhw32k0a8dcugyg4xcp3ts77gusv0e8wavptupq88v8ducvqvpmhmtreaxsl3luu433zkz6vqshxj4ffx6wcawu0yn38y7m0asqrxkgj7tc4xmw48g3vj3xduecjj3n79z2hec530syjcv83f4c0v3xs7zkuchlxvmfqc48mfqxxn6yem2ktls0nxfxdvz7u5yp9fnzpf855zwceya4pe2nqu8lyyyyumurtdqw26mrczrkyen27xnnsc6y4cxc5qr4gj39ds5wz82f6jgjuh2jfzv40px2n3pxl2w76e0sk26f8um3pkyjnkdzmdnpkpxhsm3w9q2094fzcskfkaeufhz0v4tjm64q33f8v66t37f8ra8zk8vkxvz0nyqrv7q9k4g"
}

key "signing" {
  match        = "sign/key/*"
  purpose      = "Signs requests, responses and audit records of this node"
  algorithm    = "ml-dsa-65"
  custodians   = ["alice", "bob"]
  store        = "file"
  cryptoperiod = "1y"
  overlap      = "7d"
  rotation     = "Yearly, with puente keys rotate; the old key verifies for 7 more days, then puente keys destroy-expired destroys its seed."
  revocation   = "On suspected compromise: puente keys revoke-signing at once and tell the partner."
}

key "transform-seed" {
  match        = "agreement/*/epoch/*/seed"
  purpose      = "Agreement secret from which the cancellable transform of an epoch is derived"
  algorithm    = "hkdf-sha256"
  custodians   = ["alice", "bob"]
  store        = "file"
  cryptoperiod = "180d"
  rotation     = "Every 180 days a new epoch with the partner; old epoch retired once the gallery is re-protected, then destroyed."
  revocation   = "On a template leak: revoke the epoch, begin a new one, re-protect, retire and destroy."
}

key "seed-contribution" {
  match        = "agreement/*/epoch/*/contribution"
  purpose      = "This node's contribution to an epoch's agreement secret, kept only until the secret is derived"
  algorithm    = "hkdf-sha256"
  custodians   = ["alice", "bob"]
  store        = "file"
  cryptoperiod = "7d"
  rotation     = "Never rotated: a stored contribution is a leftover of the manual ceremony, which is gone; destroy it."
  revocation   = "Destroy it and start the epoch's ceremony again."
}

key "he-share" {
  match        = "he/*/*/sk"
  purpose      = "This node's share of the collective CKKS secret key of one direction"
  algorithm    = "ckks-secret-share"
  custodians   = ["alice", "bob"]
  store        = "file"
  cryptoperiod = "180d"
  rotation     = "Regenerated with the partner together with each new transform epoch."
  revocation   = "On compromise of either node: destroy and rerun the key ceremony."
}

partner "co-migracion" {
  agreement    = "us-co"
  quota        = "1000 per 24h"
  # how many times the partner may verify (1:1) against any one reference
  verify_limit = "5 per 24h"
}

# Optional: the bounds on strangers and on calls to partners (these are the defaults).
limits {
  refusal_interval    = "10m"
  refusals_per_source = 10
  call_deadline       = "10m"
  keepalive           = "1m"
  ceremonies          = "24 per 24h"
}
