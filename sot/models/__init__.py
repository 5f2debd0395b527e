"""The networks of the SOT trackers, shared by the trackers, the checkpoint loaders and training.

* :mod:`sot.models.siamese`: ``SiamFCNet``, ``SiamRPNNet`` and ``build_net`` (from an ``arch`` dict);
* :mod:`sot.models.mdnet`: ``MDNetNet`` and its loss ``mdnet_loss``;
* :mod:`sot.models.adnet`: ``ADNetNet`` (action and confidence heads with the action history);
* :mod:`sot.models.layers`: pieces of these networks (seeded dropout, conv initialisation).

Every trunk comes from the backbone layer (:func:`sot.backbones.build_backbone`).
"""
